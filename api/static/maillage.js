// "Essayer une description": results follow the typing (the form still works without script).
(function () {
  const form = document.getElementById("search-form");
  if (!form) return;
  const results = document.getElementById("results");
  let timer = null;
  let last = "";
  function refresh() {
    const params = new URLSearchParams(new FormData(form));
    const query = params.toString();
    if (query === last) return;
    last = query;
    fetch(form.dataset.results + "?" + query, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        if (query !== last) return; // a newer request is on its way
        results.innerHTML = html;
        history.replaceState(null, "", form.action + "?" + query);
      })
      .catch(() => { last = ""; });
  }
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 350); });
  form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(refresh, 50); });
})();
