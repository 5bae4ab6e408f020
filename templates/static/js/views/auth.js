// views/auth.js: sign in, sign up, and the account view (sign out, delete the account).

import { panel, div, para, h, field, setFieldError, errorBox, busy, announce, button, submitButton, onSubmit, setTitle } from "../dom.js";
import { describe, fieldErrors } from "../errors.js";
import { paths, safeNext, uri } from "../router.js";

/** authView is the sign-in (mode "login") or sign-up (mode "signup") card. */
export function authView({ mode, api, store, go, notice }) {
  const signup = mode === "signup";
  const next = safeNext(new URLSearchParams(location.search).get("next"));
  const name = signup ? field({ label: "Name", name: "name", autocomplete: "name", required: true, maxlength: 100 }) : null;
  const email = field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const password = field({ label: "Password", name: "password", type: "password", required: true, minlength: signup ? 8 : null,
    autocomplete: signup ? "new-password" : "current-password", hint: signup ? "At least 8 characters." : null });
  const err = errorBox();
  if (notice) err.show(notice);
  const fields = [name, email, password].filter(Boolean);
  const form = h("form", { class: "stack", novalidate: true, "aria-labelledby": "auth-title" },
    err, fields, submitButton(signup ? "Create account" : "Sign in", "btn primary wide"));
  onSubmit(form, async (e) => {
    err.show("");
    for (const f of fields) setFieldError(f, "");
    const missing = fields.filter((f) => !f.input.value.trim());
    if (missing.length) {
      for (const f of missing) setFieldError(f, `Enter your ${f.querySelector("label").textContent.toLowerCase()}.`);
      missing[0].input.focus();
      return;
    }
    try {
      await busy(form, async () => {
        const body = { email: email.input.value.trim(), password: password.input.value };
        if (signup) body.name = name.input.value.trim();
        const user = await (signup ? api.signup(body) : api.login(body));
        store.set({ user });
        announce(`Signed in as ${user.name}.`);
        go(next, { replace: true });
      });
    } catch (e2) {
      const per = fieldErrors(e2);
      let first = null;
      for (const f of fields) {
        const key = f.input.name;
        if (per[key]) {
          setFieldError(f, per[key]);
          first = first || f;
        }
      }
      err.show(describe(e2, {
        unauthorized: "That email and password don't match an account. Check them and try again.",
        conflict: "An account with this email already exists. Sign in instead.",
        invalid_request: first ? "Check the highlighted fields." : undefined,
      }));
      (first ? first.input : err).focus?.();
    }
  });
  const other = signup
    ? h("p", {}, "Already have an account? ", h("a", { href: next === "/" ? paths.login() : paths.login(next) }, "Sign in"))
    : h("p", {}, "New here? ", h("a", { href: next === "/" ? paths.signup() : uri`/signup?next=${next}` }, "Create an account"));
  setTitle(signup ? "Create account" : "Sign in");
  const card = h("main", { id: "main", class: "auth" },
    div("card",
      para("brand", "pagespace"),
      h("h1", { id: "auth-title" }, signup ? "Create your account" : "Sign in"),
      form, other));
  queueMicrotask(() => (name || email).input.focus());
  return card;
}

/** accountView shows who is signed in, signs out and deletes the account. */
export async function accountView({ api, store, go, main }) {
  const user = api.user();
  setTitle("Account");
  const outErr = errorBox();
  const signOut = button("btn", "Sign out", async () => {
    outErr.show("");
    try {
      await api.logout();
      store.reset();
      announce("Signed out.");
      go(paths.login(), { replace: false });
    } catch (e) {
      outErr.fail(e);
    }
  });
  const password = field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true,
    hint: "Deleting your account cannot be undone. Delete or hand over the drives you own first." });
  const delErr = errorBox();
  const del = h("form", { class: "stack", "aria-labelledby": "delete-title" }, delErr, password,
    submitButton("Delete my account", "btn danger"));
  onSubmit(del, async (e) => {
    delErr.show("");
    setFieldError(password, "");
    if (!password.input.value) {
      setFieldError(password, "Enter your password to confirm.");
      password.input.focus();
      return;
    }
    try {
      await busy(del, () => api.deleteAccount(password.input.value));
      store.reset();
      announce("Your account has been deleted.");
      go(paths.signup(), { replace: true });
    } catch (e2) {
      delErr.show(describe(e2, { unauthorized: "That password is not right." }));
    }
  });
  main.replaceChildren(div("view narrow",
    h("h1", { tabindex: "-1" }, "Your account"),
    h("dl", { class: "facts" }, h("dt", {}, "Name"), h("dd", {}, user.name), h("dt", {}, "Email"), h("dd", {}, user.email)),
    panel("signout-title", "Sign out",
      h("p", {}, "Sign out of pagespace in this browser."), outErr, signOut),
    h("section", { class: "panel danger-zone", "aria-labelledby": "delete-title" }, h("h2", { id: "delete-title" }, "Delete account"), del)));
  main.querySelector("h1").focus();
}
