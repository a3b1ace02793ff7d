// Polls this server's HTTPS origin. A request succeeds only once the browser trusts the local
// CA; then the page moves on to sign-in. Opaque ("no-cors") responses are enough for that.
(function () {
  var target = document.body.getAttribute('data-https');
  var status = document.getElementById('status');
  if (!target || !window.fetch) return;
  var tries = 0;
  function probe() {
    tries += 1;
    fetch(target + '/healthz', { mode: 'no-cors', cache: 'no-store', credentials: 'omit' })
      .then(function () {
        if (status) status.textContent = status.getAttribute('data-ok') || '';
        window.location.href = target + '/login';
      })
      .catch(function () {
        if (status && tries === 1) {
          status.textContent = status.getAttribute('data-waiting') || '';
        }
        setTimeout(probe, 3000);
      });
  }
  probe();
})();
