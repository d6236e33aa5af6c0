// The module entry point: Turbo Drive for page navigation and forms, then the Stimulus
// controllers (controllers/index.js registers each one).
import "@hotwired/turbo"
import "controllers"
