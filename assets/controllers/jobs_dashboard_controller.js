// The jobs dashboard (views/jobs/index): the page's stream replaces a job's row
// (`job_row_<id>`) and the counts (`job_counts`) as jobs change. When EventSource is
// missing or the stream keeps failing, this controller polls the page's own URL every
// `interval` ms and swaps in the fresh counts and job list. Mechanism and shared state:
// controllers/live_stream.js.
import { Controller } from "@hotwired/stimulus"
import { watcherFor } from "controllers/live_stream"

export default class extends Controller {
  static values = {
    interval: { type: Number, default: 5000 },
    maxErrors: { type: Number, default: 3 },
  }

  connect() {
    const watcher = watcherFor(this.element, {
      interval: this.intervalValue,
      maxErrors: this.maxErrorsValue,
    })
    watcher.start(() => refresh(window.location.href))
  }
}

async function refresh(url) {
  const response = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html")
  for (const id of ["job_counts", "job_list"]) {
    const now = document.getElementById(id)
    const next = fresh.getElementById(id)
    if (now && next) now.replaceWith(document.adoptNode(next))
  }
}
