// One Stimulus application for the whole page; controllers/index.js registers controllers.
import { Application } from "@hotwired/stimulus"

const application = Application.start()
application.debug = false
window.Stimulus = application

export { application }
