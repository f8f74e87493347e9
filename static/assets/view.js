// The frame every view shares: a heading with its toolbar, the Reload button,
// and a list that shows it is loading and says so in the page when it fails.
import { busy, h, replace } from "./dom.js";

/** The view's heading (`titleId` labels the section) and its toolbar of `tools`. */
export function viewHead(titleId, title, ...tools) {
  return h(
    "div",
    { class: "view-head" },
    h("h1", { id: titleId, text: title }),
    h("div", { class: "toolbar" }, tools),
  );
}

/** The toolbar's Reload button; disabled while `reload` runs. */
export function reloadButton(reload) {
  return h("button", {
    type: "button",
    class: "ghost",
    text: "Reload",
    onclick: (e) => busy(e.currentTarget, reload),
  });
}

/**
 * Returns a reload function for `list`: aria-busy while `load` runs; when it
 * throws, the list shows "`what` could not be loaded" instead of stale cards.
 */
export function listLoader(list, what, load) {
  return async () => {
    list.setAttribute("aria-busy", "true");
    try {
      await load();
    } catch (error) {
      replace(
        list,
        h("p", { class: "error-box", text: `${what} could not be loaded: ${error.message}` }),
      );
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  };
}
