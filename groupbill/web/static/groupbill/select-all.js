// A list's "select all on this page" box ticks or clears every row's box in its form.
document.querySelectorAll("input[data-select-all]").forEach((all) => {
  const boxes = () => all.form.querySelectorAll(`input[name="${all.dataset.selectAll}"]`);
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
  all.form.addEventListener("change", (event) => {
    if (event.target === all) return;
    const list = [...boxes()];
    all.checked = list.length > 0 && list.every((box) => box.checked);
  });
});
