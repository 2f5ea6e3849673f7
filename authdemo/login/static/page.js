// The token page's buttons: ask this page's own server to call a route with a token (the token
// stays on the server), then show the status, the body and the claims the function received.
"use strict";

function show(route, token, answer) {
  const out = document.getElementById(`result-${route}-${token}`);
  const status = answer.status === undefined ? "error" : String(answer.status);
  out.textContent = status;
  out.dataset.status = status;
  document.getElementById("last-call").textContent = `Last answer: GET /${route} with ${token} → ${status}`;
  // The claims are shown below on their own: the body here without them.
  const body = answer.body && typeof answer.body === "object" && answer.claims ? { ...answer.body, claims: "(below)" } : answer.body;
  document.getElementById("detail").textContent = JSON.stringify(
    answer.error ? { error: answer.error } : { status: answer.status, body, "www-authenticate": answer.www_authenticate },
    null, 2);
  document.getElementById("received").textContent = answer.claims ? JSON.stringify(answer.claims, null, 2) : "— (no claims: the function did not run, or the route passes none)";
}

async function call(button) {
  const { route, token } = button.dataset;
  const out = document.getElementById(`result-${route}-${token}`);
  out.textContent = "…";
  delete out.dataset.status;
  try {
    const response = await fetch("call", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ route, token }),
    });
    show(route, token, await response.json());
  } catch (err) {
    show(route, token, { error: String(err) });
  }
}

for (const button of document.querySelectorAll("button[data-route]")) {
  button.addEventListener("click", () => call(button));
}
