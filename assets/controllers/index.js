// Registers every controller. Add a controller: create controllers/NAME_controller.js (the
// server maps it in the import map at start) and register it here.
import { application } from "controllers/application"
import JsonFormatController from "controllers/json_format_controller"

application.register("json-format", JsonFormatController)
