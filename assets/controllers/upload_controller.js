// The upload form on a template's page. Without JavaScript the form posts as it is (a
// multipart POST, then the server's 303 to the job page). With it, this controller adds a
// drop zone, sends the file with XMLHttpRequest so a progress bar can show the bytes going
// up, follows the server's redirect (XHR follows the 303 itself; responseURL is where it
// landed) with Turbo.visit, and shows a refusal (413, not a spreadsheet...) inline, in the
// sentence of the page that came back (#error-message on an error page, #upload_error on
// the template page).
import { Controller } from "@hotwired/stimulus"
import { visit } from "@hotwired/turbo"

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}

export default class extends Controller {
  static targets = ["input", "zone", "name", "progress", "status", "error", "button"]
  static values = { maxBytes: Number }

  over(event) {
    event.preventDefault()
    this.zoneTarget.classList.add("drop-zone--over")
  }

  leave() {
    this.zoneTarget.classList.remove("drop-zone--over")
  }

  drop(event) {
    event.preventDefault()
    this.leave()
    const files = event.dataTransfer && event.dataTransfer.files
    if (!files || files.length === 0) return
    if (files.length > 1) {
      this.showError("Drop one file at a time.")
      return
    }
    this.inputTarget.files = files
    this.pick()
  }

  pick() {
    const file = this.inputTarget.files[0]
    this.hideError()
    this.nameTarget.textContent = file ? `${file.name} (${humanSize(file.size)})` : "No file chosen yet"
  }

  submit(event) {
    if (typeof XMLHttpRequest !== "function" || typeof FormData !== "function") return
    event.preventDefault()
    const file = this.inputTarget.files[0]
    if (!file) {
      this.showError("Choose a spreadsheet file first.")
      return
    }
    if (file.size === 0) {
      this.showError(`${file.name} is empty; choose a spreadsheet with a header row.`)
      return
    }
    if (this.maxBytesValue > 0 && file.size > this.maxBytesValue) {
      this.showError(
        `${file.name} is ${humanSize(file.size)}; the server accepts files up to ${humanSize(this.maxBytesValue)}.`
      )
      return
    }
    this.send(new FormData(this.element), file)
  }

  send(data, file) {
    const xhr = new XMLHttpRequest()
    xhr.open("POST", this.element.action)
    xhr.setRequestHeader("Accept", "text/html")
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return
      const percent = Math.floor((e.loaded * 100) / e.total)
      this.progressTarget.value = percent
      this.statusTarget.textContent = `Uploading ${file.name}: ${percent}%`
    })
    xhr.upload.addEventListener("load", () => {
      this.progressTarget.value = 100
      this.statusTarget.textContent = "Uploaded; starting the import…"
    })
    xhr.addEventListener("load", () => this.finished(xhr))
    xhr.addEventListener("error", () =>
      this.failed("The upload did not reach the server; check the connection and try again.")
    )
    xhr.addEventListener("abort", () => this.failed("The upload was stopped."))
    this.hideError()
    this.progressTarget.hidden = false
    this.progressTarget.value = 0
    this.buttonTarget.disabled = true
    this.statusTarget.textContent = `Uploading ${file.name}…`
    xhr.send(data)
  }

  finished(xhr) {
    if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
      // The 303 was followed and the page it pointed to is already here: back on this page
      // means the server refused the file (its message is in the page); anywhere else (the
      // job page) is shown through Turbo from the HTML in hand, without fetching it again.
      if (new URL(xhr.responseURL).pathname === window.location.pathname) {
        this.failed(messageOf(xhr.responseText) || "The server did not accept the file.")
        return
      }
      visit(xhr.responseURL, {
        action: "advance",
        response: { statusCode: xhr.status, redirected: true, responseHTML: xhr.responseText },
      })
      return
    }
    this.failed(messageOf(xhr.responseText) || `The server refused the upload (HTTP ${xhr.status}).`)
  }

  failed(message) {
    this.progressTarget.hidden = true
    this.buttonTarget.disabled = false
    this.statusTarget.textContent = ""
    this.showError(message)
  }

  showError(message) {
    this.errorTarget.textContent = message
    this.errorTarget.hidden = false
  }

  hideError() {
    this.errorTarget.textContent = ""
    this.errorTarget.hidden = true
  }
}

// The sentence of an error page (views/errors/show: #error-message) or a JSON {"error"}.
function messageOf(text) {
  if (!text) return ""
  try {
    const doc = JSON.parse(text)
    if (doc && typeof doc.error === "string") return doc.error
  } catch (_) {
    // not JSON: an HTML page
  }
  const page = new DOMParser().parseFromString(text, "text/html")
  const node = page.getElementById("error-message") || page.getElementById("upload_error")
  return node ? node.textContent.trim() : ""
}
