// A payment waiting for its card holder: Stripe.js shows the bank's check (3-D Secure) for
// the page's PaymentIntent; afterwards the page is loaded again and shows what happened
// (the outcome is booked when Stripe's webhook reports it).
(function () {
  "use strict";
  var form = document.getElementById("authenticate-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var errors = document.getElementById("authenticate-errors");
  var button = document.getElementById("authenticate");

  function fail(message) {
    errors.firstElementChild.textContent = message;
    errors.hidden = false;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.hidden = true;
    button.disabled = true;
    stripe.confirmCardPayment(form.dataset.clientSecret).then(function (result) {
      if (result.error) {
        fail(result.error.message || "Your bank did not confirm the payment.");
        return;
      }
      window.location.reload();
    }, function () {
      fail("Your bank could not be reached; please try again.");
    });
  });
})();
