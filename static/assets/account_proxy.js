// An account's outbound proxy in the account card and its Edit dialog. The
// admin API only ever answers the URL redacted (user:***), so the field
// starts empty: leave it empty to keep the proxy, tick "Go direct" to drop it.
import { field, h } from "./dom.js";

const SCHEMES = /^(http|socks5h?):\/\//i;

/** The card's fact: the redacted URL, or "direct". */
export function proxyFact(account) {
  return account.proxy ? h("dd", {}, h("code", { text: account.proxy })) : "direct";
}

/** The Edit dialog's rows and a reader of the change ({proxy} to send, {} for none, or {error}). */
export function proxyFields(account) {
  const url = field(
    "Outbound proxy",
    h("input", {
      type: "text",
      class: "proxy-url",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "socks5://user:password@host:1080",
    }),
    account.proxy
      ? `Now ${account.proxy}. Enter a new URL to replace it; empty keeps it.`
      : "http://, socks5:// or socks5h://. Empty: the account connects directly.",
  );
  const direct = account.proxy
    ? h("input", { type: "checkbox", class: "proxy-clear", id: `proxy-clear-${account.id}` })
    : null;
  const rows = [url.row];
  if (direct) {
    rows.push(
      h(
        "div",
        { class: "check" },
        direct,
        h("label", { for: direct.id, text: "Go direct (remove the proxy)" }),
      ),
    );
  }
  const read = () => {
    const value = url.input.value.trim();
    if (direct?.checked) return { proxy: null };
    if (!value) return {};
    if (!SCHEMES.test(value)) {
      url.input.focus();
      return { error: "The proxy URL must start with http://, socks5:// or socks5h://." };
    }
    return { proxy: value };
  };
  return { rows, read };
}
