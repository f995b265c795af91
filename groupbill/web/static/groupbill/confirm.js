// A form (or its submit button) with data-confirm asks before it is sent: the
// Content-Security-Policy blocks inline onsubmit handlers, so they would never ask.
document.addEventListener("submit", (event) => {
  const message = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
