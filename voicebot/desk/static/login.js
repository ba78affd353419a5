// The sign-in page: the session comes back as an HttpOnly cookie (the content security policy allows no inline script).
"use strict";

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("sign-in-error");
  const response = await fetch("/api/v1/desk/session", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    credentials: "same-origin",
    body: JSON.stringify({
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    }),
  });
  if (response.ok) {
    window.location.assign("/desk");
  } else {
    const wait = response.headers.get("Retry-After");
    error.textContent = response.status === 401 ? "Wrong username or password."
      : response.status === 429 ? `Too many wrong passwords: try again in ${wait} seconds.`
      : "Sign-in failed, please try again.";
    error.hidden = false;
  }
});
