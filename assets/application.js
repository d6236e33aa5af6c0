// The module entry point: the stream guard (controllers/live_stream.js; it must run before
// Turbo defines <turbo-stream-source>), Turbo Drive for page navigation and forms, then the
// Stimulus controllers (controllers/index.js registers each one).
import "controllers/live_stream"
import "@hotwired/turbo"
import "controllers"

// A job's partial sent over a stream is rendered once for every browser watching, so its
// cancel/retry forms carry an empty CSRF field; fill it from this page's own token (the
// layout's <meta name="csrf-token">) before any form is sent, by Turbo or natively.
document.addEventListener(
  "submit",
  (event) => {
    const param = document.querySelector('meta[name="csrf-param"]')?.content
    const token = document.querySelector('meta[name="csrf-token"]')?.content
    if (!param || !token || !(event.target instanceof HTMLFormElement)) return
    for (const input of event.target.querySelectorAll(`input[type="hidden"][name="${param}"]`)) {
      if (!input.value) input.value = token
    }
  },
  true
)
