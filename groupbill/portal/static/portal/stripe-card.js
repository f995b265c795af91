// The portal's card form: Stripe Elements confirms the page's SetupIntent in the browser
// (the number goes to Stripe only), then the form posts the SetupIntent's id.
(function () {
  "use strict";
  var form = document.getElementById("stripe-card-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("save-card");

  function fail(message) {
    errors.firstElementChild.textContent = message;
    errors.hidden = false;
    button.disabled = false;
    button.textContent = "Save card";
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.setup_intent.value) return; // confirmed: post it
    event.preventDefault();
    errors.hidden = true;
    button.disabled = true;
    button.textContent = "Saving…";
    stripe.confirmCardSetup(form.dataset.clientSecret, {payment_method: {card: card}})
      .then(function (result) {
        if (result.error) {
          fail(result.error.message || "The card was not accepted.");
          return;
        }
        form.elements.setup_intent.value = result.setupIntent.id;
        form.submit();
      }, function () {
        fail("The card could not be checked; please try again.");
      });
  });
})();
