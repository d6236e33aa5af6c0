// Pretty-prints the JSON in a textarea, or says why it is not JSON yet. Only a convenience:
// the server validates the template either way.
import { Controller } from "@hotwired/stimulus"

export default class extends Controller {
  static targets = ["input", "status"]

  format() {
    try {
      const value = JSON.parse(this.inputTarget.value)
      this.inputTarget.value = JSON.stringify(value, null, 2) + "\n"
      this.statusTarget.textContent = ""
    } catch (error) {
      this.statusTarget.textContent = `This is not valid JSON yet: ${error.message}`
    }
  }
}
