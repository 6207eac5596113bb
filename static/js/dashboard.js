// Progressive enhancement only: every page works without this file.
// Copy buttons: <button data-copy="element-id" hidden>Copy</button> copies the element's text.
document.querySelectorAll("[data-copy]").forEach((button) => {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
});

// A refused form: the focus starts on what is wrong (<div data-focus-on-load tabindex="-1">).
const focusOnLoad = document.querySelector("[data-focus-on-load]");
if (focusOnLoad) focusOnLoad.focus();
