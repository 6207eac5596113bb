// Progressive enhancement only: every page works without this file. Its words are the page's,
// in the page's language: <body data-copied="…" data-copy-failed="…">, and the formats in the
// data-format attributes below.
const words = document.body.dataset;

// Copy buttons: <button data-copy="element-id" hidden>Copy</button> copies the element's text.
document.querySelectorAll("[data-copy]").forEach((button) => {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  const label = Array.from(button.childNodes);
  const name = button.getAttribute("aria-label");
  const say = (text) => {
    button.textContent = text;
    if (name) button.setAttribute("aria-label", text);
  };
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      say(words.copied || "Copied");
    } catch {
      say(words.copyFailed || "Select and copy");
    }
    setTimeout(() => {
      button.replaceChildren(...label);
      if (name) button.setAttribute("aria-label", name);
    }, 2000);
  });
});

// "/" moves to the search box of the page (<input data-search-shortcut>), unless one is typing.
const searchBox = document.querySelector("[data-search-shortcut]");
if (searchBox) {
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing =
      target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (event.key !== "/" || typing || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    searchBox.focus();
    searchBox.select();
  });
}

// "Select all on this page" (<input type="checkbox" data-select-all="form-id" hidden>): shown
// by this script, it ticks or clears the boxes of that form's rows, and is half-ticked when
// only some are. Without JavaScript the boxes are ticked one by one. The form's count
// (<span data-selected-count data-none="…" data-one="…" data-many="… {count} …">) says how
// many are ticked, in the page's language.
document.querySelectorAll("[data-select-all]").forEach((all) => {
  const boxes = Array.from(
    document.querySelectorAll(`input[type="checkbox"][form="${all.dataset.selectAll}"]`),
  );
  if (!boxes.length) return;
  const form = document.getElementById(all.dataset.selectAll);
  const count = form && form.querySelector("[data-selected-count]");
  const follow = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    if (count) {
      const { none, one, many } = count.dataset;
      const words = ticked === 0 ? none : ticked === 1 ? one : many;
      const number = ticked.toLocaleString(document.documentElement.lang);
      count.textContent = words.replace("{count}", number);
    }
  };
  all.addEventListener("change", () => {
    boxes.forEach((box) => {
      box.checked = all.checked;
    });
    follow();
  });
  boxes.forEach((box) => box.addEventListener("change", follow));
  follow(); // a page restored by "Back" keeps its ticks
  all.hidden = false;
});

// A refused form: the focus starts on what is wrong (<div data-focus-on-load tabindex="-1">).
const focusOnLoad = document.querySelector("[data-focus-on-load]");
if (focusOnLoad) focusOnLoad.focus();

// Pages that refresh themselves while the server works (an import) get a Refresh header only
// from browsers without this script: this cookie tells the server that the page polls instead.
document.cookie = "js=1; path=/; SameSite=Lax";

// An import's progress (<section data-import-progress="status URL">): the bar and the counts
// follow the task, asked at once then every second (a small file is done before the first
// second is out); when its status changes, the page is loaded again to show what comes next
// (the review, the summary).
const importProgress = document.querySelector("[data-import-progress]");
if (importProgress) {
  const bar = importProgress.querySelector("progress");
  const rowsDone = importProgress.querySelector("[data-import-rows-done]");
  const counts = importProgress.querySelector("[data-import-counts]");
  const refresh = importProgress.querySelector("[data-import-refresh]");
  if (refresh) refresh.hidden = true;
  let delay = 250;
  const poll = async () => {
    try {
      const response = await fetch(importProgress.dataset.importProgress, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(response.statusText);
      const state = await response.json();
      if (state.status !== importProgress.dataset.importStatus) {
        window.location.reload();
        return;
      }
      bar.max = state.total_rows;
      bar.value = state.rows_done;
      bar.textContent = `${state.percent}%`;
      if (rowsDone) rowsDone.textContent = state.rows_done;
      if (counts) {
        // "{created} created, {updated} updated, …" with the task's numbers in their places.
        counts.textContent = counts.dataset.format.replace(/\{(\w+)\}/g, (place, name) =>
          name in state ? state[name] : place,
        );
      }
    } catch {
      if (refresh) refresh.hidden = false;
    }
    delay = Math.min(delay * 2, 1000);
    setTimeout(poll, delay);
  };
  setTimeout(poll, delay);
}
