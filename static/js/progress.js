// Polls a job's status and updates the progress bar; reloads once the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished) { return; }
  var url = box.dataset.statusUrl;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        document.getElementById("job-status").textContent = job.status_display;
        document.getElementById("job-rows").textContent = job.processed_rows + " / " + job.total_rows;
        document.getElementById("job-progress").value = job.percent;
        document.getElementById("job-message").textContent = job.message;
        if (job.finished) { window.location.reload(); } else { window.setTimeout(tick, 1000); }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 500);
})();
