// Connecting an account: OAuth device flows (which complete by themselves: the
// dialog polls `complete` at the flow's interval) and code-paste flows.
import { ApiError, post, seg } from "./api.js";
import {
  announce,
  busy,
  copyButton,
  field,
  h,
  openDialog,
  replace,
  submitForm,
  uid,
} from "./dom.js";
import { duration, providerName, PROVIDERS } from "./format.js";

export function radioGroup(legend, name, options, selected) {
  const fieldset = h("fieldset", { class: "radio-group" }, h("legend", { text: legend }));
  for (const option of options) {
    const id = uid(name);
    fieldset.append(
      h(
        "div",
        { class: "radio" },
        h("input", {
          type: "radio",
          name,
          id,
          value: option.id,
          checked: option.id === selected,
        }),
        h("label", { for: id, text: option.name }),
        option.hint ? h("span", { class: "hint", text: option.hint }) : null,
      ),
    );
  }
  return fieldset;
}

export const checkedValue = (form, name) =>
  form.querySelector(`input[name="${name}"]:checked`)?.value;

/** Explains a failed OAuth call in the words the admin needs. */
function flowErrorText(error) {
  if (error instanceof ApiError && error.status === 410) {
    return "This login expired before it finished. Start again.";
  }
  if (error instanceof ApiError && error.status === 404) {
    return "Kleis no longer knows this login (it may have finished already). Start again.";
  }
  return error.message;
}

export function openConnectDialog(onConnected) {
  const body = h("div", { class: "connect" });
  let stopPolling = () => {};
  const d = openDialog({
    title: "Connect an account",
    content: body,
    wide: true,
    onClose: () => stopPolling(),
  });

  const showStart = () => {
    const enterprise = field(
      "GitHub Enterprise domain (optional)",
      h("input", {
        type: "text",
        name: "enterpriseDomain",
        placeholder: "github.example.com",
        autocomplete: "off",
        spellcheck: "false",
      }),
      "Leave empty for github.com.",
    );
    const codexMode = radioGroup("Sign-in method", "codexMode", [
      { id: "browser", name: "Browser", hint: "Open a link, then paste the address you land on." },
      { id: "device", name: "Device code", hint: "Type a code at auth.openai.com/codex/device." },
    ], "browser");
    const options = h("div", { class: "provider-options" });
    const { form, message, submit: start } = submitForm(
      "Start",
      radioGroup("Provider", "provider", PROVIDERS, "copilot"),
      options,
    );
    const updateOptions = () => {
      const provider = checkedValue(form, "provider");
      if (provider === "copilot") replace(options, enterprise.row);
      else if (provider === "codex") replace(options, codexMode);
      else {replace(
          options,
          h("p", {
            class: "hint",
            text: "Claude signs in in the browser; you paste back the code it shows.",
          }),
        );}
    };
    form.addEventListener("change", (e) => {
      if (e.target.name === "provider") updateOptions();
    });
    updateOptions();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const provider = checkedValue(form, "provider");
      const request = {};
      if (provider === "copilot") {
        request.mode = "device";
        const domain = enterprise.input.value.trim();
        if (domain) request.enterpriseDomain = domain;
      } else if (provider === "codex") {
        request.mode = checkedValue(form, "codexMode") ?? "browser";
      } else {
        request.mode = "browser";
      }
      message.textContent = "";
      await busy(start, async () => {
        try {
          const flow = await post(`/admin/accounts/${seg(provider)}/oauth/start`, request);
          if (flow?.method === "device") showDevice(provider, flow);
          else showCodePaste(provider, flow);
        } catch (error) {
          message.textContent = `The login could not start: ${error.message}`;
        }
      });
    });
    replace(body, form);
    form.querySelector("input")?.focus();
  };

  const showDone = (provider, account) => {
    const label = account?.label ?? "The account";
    const done = h("button", {
      type: "button",
      class: "primary",
      text: "Done",
      onclick: () => d.close(),
    });
    replace(
      body,
      h(
        "div",
        { class: "success-box", role: "status" },
        h("strong", { text: `${label} is connected.` }),
        ` ${providerName(provider)}${account?.email ? ` · ${account.email}` : ""}`,
      ),
      h("div", { class: "actions" }, done),
    );
    done.focus();
    announce(`${label} is connected.`);
    onConnected?.();
  };

  const showFailure = (text) => {
    const again = h("button", {
      type: "button",
      class: "primary",
      text: "Start again",
      onclick: showStart,
    });
    replace(
      body,
      h("p", { class: "error-box", role: "alert", text }),
      h("div", { class: "actions" }, again),
    );
    again.focus();
  };

  const instructions = (flow) =>
    flow?.instructions ? h("p", { class: "instructions", text: flow.instructions }) : null;

  const expiryLine = (flow) => {
    if (typeof flow?.expiresAt !== "number") return null;
    const el = h("p", { class: "muted small", "data-tick": "" });
    const update = () => {
      const left = flow.expiresAt - Date.now();
      el.textContent = left > 0
        ? `This login expires in ${duration(left, true)}.`
        : "This login has expired.";
    };
    el.addEventListener("tick", update);
    update();
    return el;
  };

  const showDevice = (provider, flow) => {
    const codeInput = h("input", {
      type: "text",
      readonly: true,
      value: flow.userCode ?? "",
      class: "sr-only",
      tabindex: "-1",
      "aria-hidden": "true",
    });
    const state = h("p", {
      class: "polling",
      role: "status",
      "aria-live": "polite",
      text: "Waiting for you to approve the code…",
    });
    const cancel = h("button", {
      type: "button",
      class: "ghost",
      text: "Cancel",
      onclick: () => d.close(),
    });
    replace(
      body,
      instructions(flow),
      h(
        "div",
        { class: "device-code" },
        h("span", { class: "muted small", text: "Your code" }),
        h("output", { class: "user-code", "aria-label": "Device code", text: flow.userCode ?? "" }),
        copyButton(() => flow.userCode ?? "", "Copy code", codeInput),
        codeInput,
      ),
      h(
        "p",
        {},
        "Open ",
        h("a", {
          href: flow.authorizationUrl,
          target: "_blank",
          rel: "noopener noreferrer",
          class: "verification-link",
          text: flow.authorizationUrl,
        }),
        " and enter the code.",
      ),
      expiryLine(flow),
      state,
      h("div", { class: "actions" }, cancel),
    );
    body.querySelector(".verification-link")?.focus();

    let stopped = false;
    let timer;
    stopPolling = () => {
      stopped = true;
      clearTimeout(timer);
    };
    let intervalMs = Math.max(1, Number(flow.interval) || 5) * 1000;
    const poll = async () => {
      if (stopped) return;
      try {
        const answer = await post(`/admin/accounts/${seg(provider)}/oauth/complete`, {
          flowId: flow.flowId,
        });
        if (stopped) return;
        if (answer?.status === "complete") {
          stopPolling();
          showDone(provider, answer.account);
          return;
        }
        if (answer?.status === "failed") {
          stopPolling();
          showFailure(answer.message ?? answer.error?.message ?? "The provider refused the login.");
          return;
        }
        if (Number(answer?.interval) > 0) intervalMs = Number(answer.interval) * 1000;
        state.textContent = `Waiting for you to approve the code… (checked ${
          new Date().toLocaleTimeString()
        })`;
      } catch (error) {
        if (stopped) return;
        // A network error, a 5xx or "busy" (409, another poll in flight) keeps polling;
        // the flow itself failing (denied, expired) stops it.
        if (
          error instanceof ApiError &&
          (error.status === 0 || error.status === 409 || error.status >= 500)
        ) {
          state.textContent = `Could not check just now (${error.message}); trying again.`;
        } else {
          stopPolling();
          showFailure(flowErrorText(error));
          return;
        }
      }
      timer = setTimeout(poll, intervalMs);
    };
    timer = setTimeout(poll, intervalMs);
  };

  const showCodePaste = (provider, flow) => {
    const isCodex = provider === "codex";
    const paste = field(
      isCodex ? "Callback URL" : "Code",
      h("textarea", {
        rows: "3",
        required: true,
        spellcheck: "false",
        autocomplete: "off",
        placeholder: isCodex ? "http://localhost:1455/auth/callback?code=…&state=…" : "code#state",
      }),
      isCodex
        ? "After signing in, the browser shows an unreachable localhost page: copy the whole address from the address bar."
        : "After signing in, Claude shows a code: copy all of it (it contains a #).",
    );
    const message = h("p", { class: "form-message", role: "alert" });
    const finish = h("button", { type: "submit", class: "primary", text: "Finish" });
    const form = h(
      "form",
      { class: "form" },
      instructions(flow),
      h(
        "p",
        {},
        h("a", {
          href: flow.authorizationUrl,
          target: "_blank",
          rel: "noopener noreferrer",
          class: "button-link",
          text: `Open the ${providerName(provider)} sign-in page`,
        }),
      ),
      expiryLine(flow),
      paste.row,
      message,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "ghost", text: "Cancel", onclick: () => d.close() }),
        finish,
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = paste.input.value.trim();
      if (!code) {
        message.textContent = isCodex ? "Paste the callback URL first." : "Paste the code first.";
        paste.input.focus();
        return;
      }
      await busy(finish, async () => {
        try {
          const answer = await post(`/admin/accounts/${seg(provider)}/oauth/complete`, {
            flowId: flow.flowId,
            code,
          });
          if (answer?.status === "complete") showDone(provider, answer.account);
          else {message.textContent = answer?.message ??
              "The login is not complete yet. Check the pasted text.";}
        } catch (error) {
          if (error instanceof ApiError && (error.status === 410 || error.status === 404)) {
            showFailure(flowErrorText(error));
          } else message.textContent = error.message;
        }
      });
    });
    replace(body, form);
    form.querySelector("a")?.focus();
  };

  showStart();
  return d;
}
