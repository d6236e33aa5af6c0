// Registers every controller. Add a controller: create controllers/NAME_controller.js (the
// server maps it in the import map at start) and register it here.
import { application } from "controllers/application"
import JobStatusController from "controllers/job_status_controller"
import JobsDashboardController from "controllers/jobs_dashboard_controller"
import JsonFormatController from "controllers/json_format_controller"
import UploadController from "controllers/upload_controller"

application.register("job-status", JobStatusController)
application.register("jobs-dashboard", JobsDashboardController)
application.register("json-format", JsonFormatController)
application.register("upload", UploadController)
