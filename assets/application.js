// The module entry point: the stream guard (controllers/live_stream.js; it must run before
// Turbo defines <turbo-stream-source>), Turbo Drive for page navigation and forms, then the
// Stimulus controllers (controllers/index.js registers each one).
import "controllers/live_stream"
import "@hotwired/turbo"
import "controllers"
