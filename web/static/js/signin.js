// Signing in on a page that needs it: email and password sent to the API, which starts
// a browser session; the page then loads again as the signed-in user.

import { api, setCSRF } from "./api.js";

const form = document.getElementById("signin");
if (form) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("signin-error");
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    if (!email || !password) {
      out.hidden = false;
      out.textContent = "Enter your email address and your password.";
      (email ? form.elements.password : form.elements.email).focus();
      return;
    }
    try {
      const res = await api("POST", "/api/v1/auth/login", { email, password, mode: "cookie" });
      setCSRF(res.csrf_token);
      location.reload();
    } catch (err) {
      out.hidden = false;
      out.textContent = err.message;
      form.elements.password.focus();
    }
  });
}
