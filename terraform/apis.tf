# The services the pipeline uses, enabled on the project. They stay enabled on
# destroy: other workloads in the project may rely on them.

locals {
  services = toset([
    "artifactregistry.googleapis.com", # images built from the function source
    "cloudbuild.googleapis.com",       # builds the functions (npm run gcp-build)
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # project IAM and the project number
    "cloudscheduler.googleapis.com",       # runs the outbox sweep (terraform/outbox.tf)
    "cloudtasks.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # gen2 functions are Cloud Run services
    "secretmanager.googleapis.com",
    "storage.googleapis.com", # the source archive bucket
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.services

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.enabled]
}

# The scheduler's API had a resource of its own before it joined the set above.
moved {
  from = google_project_service.outbox_scheduler
  to   = google_project_service.enabled["cloudscheduler.googleapis.com"]
}
