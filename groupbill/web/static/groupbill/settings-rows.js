// Rows whose "inherit" box is ticked have their inputs disabled, so what is saved is clear.
document.querySelectorAll("input[data-inherit]").forEach(function (box) {
  var row = box.closest("tr");
  function sync() {
    row.querySelectorAll("td.value input, td.value select").forEach(function (el) { el.disabled = box.checked; });
    row.classList.toggle("explicit", !box.checked);
  }
  box.addEventListener("change", sync);
  sync();
});
