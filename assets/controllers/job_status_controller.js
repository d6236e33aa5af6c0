// The job's status partial (views/shared/_job_status): keeps it current when the page's
// stream cannot. The stream itself needs no code (Turbo applies its messages); this
// controller reports "live" while the stream is connected and, when EventSource is missing
// or the stream keeps failing, polls every `interval` ms: the partial's HTML from
// `partialUrl` (preferred: rendered through Turbo exactly like a stream message) or else
// the status document from `url`, whose state change reloads the page. It stops at a
// terminal state. Mechanism and shared state: controllers/live_stream.js.
import { Controller } from "@hotwired/stimulus"
import { renderStreamMessage, visit } from "@hotwired/turbo"
import { watcherFor } from "controllers/live_stream"

const TERMINAL = new Set(["completed", "failed", "cancelled"])

export default class extends Controller {
  static values = {
    url: String,
    partialUrl: String,
    interval: { type: Number, default: 2000 },
    maxErrors: { type: Number, default: 3 },
  }

  connect() {
    const watcher = watcherFor(this.element, {
      interval: this.intervalValue,
      maxErrors: this.maxErrorsValue,
    })
    if (TERMINAL.has(this.element.dataset.status)) {
      watcher.finish()
      return
    }
    const id = this.element.id
    const partialUrl = this.partialUrlValue
    const statusUrl = this.urlValue
    const status = this.element.dataset.status
    watcher.start(() => (partialUrl ? pollPartial(id, partialUrl) : pollStatus(id, statusUrl, status)))
  }
}

async function pollPartial(id, url) {
  const response = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
  const html = await response.text()
  renderStreamMessage(
    `<turbo-stream action="replace" target="${id}"><template>${html}</template></turbo-stream>`
  )
}

async function pollStatus(id, url, shown) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
  const doc = await response.json()
  const element = document.getElementById(id)
  if (!element) return
  if (doc.status !== shown) {
    visit(window.location.href, { action: "replace" })
    return
  }
  const bar = element.querySelector("progress")
  if (bar && doc.progress && Number.isFinite(doc.progress.percent)) bar.value = doc.progress.percent
}
