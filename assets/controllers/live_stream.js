// DESIGN
// ------
// What the live pages (a job's page, the jobs dashboard) share: watching the page's
// <turbo-stream-source> and falling back to polling when it cannot work.
//
// A page marks its live region with `data-job-page` and shows the state in the element
// `[data-job-live]` (outside anything a stream message replaces; on the dashboard it is
// data-turbo-permanent, so a morphing refresh keeps it): "connecting", "live",
// "reconnecting", "polling" or "done". Turbo replaces the job's partial on every stream
// message, which disconnects and reconnects its Stimulus controller each time, so the state
// (error count, poll timer, the EventSource seen) lives here in a WeakMap keyed by the page
// element, never in a controller.
//
// The fallback: when window.EventSource is missing, or the stream errors `maxErrors` times
// in a row, or the browser gives up on it (readyState CLOSED), the stream element is removed
// (closing its EventSource) and `poll` is called every `interval` ms until `finish`.
//
// This module is imported by application.js BEFORE Turbo: without EventSource, Turbo's
// <turbo-stream-source> would throw from its connectedCallback, so here such elements are
// taken out of the document (and out of every page Turbo is about to render) before Turbo
// defines the element; the controllers then see no stream and poll.

const supported = typeof window.EventSource === "function"

function dropSources(root) {
  for (const el of root.querySelectorAll("turbo-stream-source")) el.remove()
}

if (!supported) {
  dropSources(document)
  document.addEventListener("turbo:before-render", (event) => dropSources(event.detail.newBody))
}

const labels = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  polling: "Polling",
  done: "Finished",
}

const watchers = new WeakMap()

class Watcher {
  constructor(page, options) {
    this.page = page
    this.options = options
    this.errors = 0
    this.source = null
    this.timer = null
    this.mode = "connecting"
    this.finished = false
    this.waits = 0
    this.setMode("connecting")
  }

  setMode(mode) {
    this.mode = mode
    const indicator = document.querySelector("[data-job-live]")
    if (!indicator) return
    indicator.dataset.state = mode
    const text = indicator.querySelector("[data-live-text]")
    if (text) text.textContent = labels[mode] || mode
  }

  // Called on every (re)connect of the controller that owns the page.
  start(poll) {
    this.poll = poll
    if (this.finished) return
    if (this.mode === "polling") return this.schedule()
    this.watchStream()
  }

  watchStream() {
    const element = this.page.querySelector("turbo-stream-source")
    if (!supported || !element) return this.fallback()
    const es = element.streamSource
    if (!es) {
      // Turbo has not connected the element yet: look again shortly.
      if (this.waits++ < 20) setTimeout(() => this.finished || this.watchStream(), 50)
      else this.fallback()
      return
    }
    if (this.source !== es) {
      this.source = es
      es.addEventListener("open", () => this.healthy(es))
      es.addEventListener("message", () => this.healthy(es))
      es.addEventListener("error", () => this.failed(es))
    }
    if (es.readyState === 1) this.setMode("live")
  }

  healthy(es) {
    if (this.source !== es || this.finished || this.mode === "polling") return
    this.errors = 0
    this.setMode("live")
  }

  failed(es) {
    if (this.source !== es || this.finished || this.mode === "polling") return
    this.errors++
    if (es.readyState === 2 || this.errors >= this.options.maxErrors) this.fallback()
    else this.setMode("reconnecting")
  }

  fallback() {
    if (this.finished) return
    const element = this.page.querySelector("turbo-stream-source")
    if (element) element.remove()
    this.source = null
    this.setMode("polling")
    this.schedule()
  }

  schedule() {
    if (this.timer || this.finished) return
    this.timer = setTimeout(async () => {
      try {
        await this.poll()
      } catch (error) {
        // A failed poll is retried on the next tick; the indicator keeps saying "Polling".
      } finally {
        this.timer = null
        if (!this.finished && this.page.isConnected) this.schedule()
      }
    }, this.options.interval)
  }

  finish() {
    this.finished = true
    clearTimeout(this.timer)
    this.timer = null
    const element = this.page.querySelector("turbo-stream-source")
    if (element) element.remove()
    this.setMode("done")
  }
}

// The watcher of the page holding `element` (created on first use).
export function watcherFor(element, options) {
  const page = element.closest("[data-job-page]") || element
  let watcher = watchers.get(page)
  if (!watcher) {
    watcher = new Watcher(page, options)
    watchers.set(page, watcher)
  }
  return watcher
}

export const eventSourceSupported = supported
