# The three gen2 functions, built by Cloud Build from this repository's source
# (package.json `gcp-build` compiles the TypeScript; `main` is
# dist/functions/index.js, which registers every entry point).

locals {
  # Everything the build does not need. tsconfig.build.json compiles only
  # functions/ and lib/, so tests, benchmarks, emulators and this directory stay
  # out (test/unit/terraform/ checks that nothing built imports from them).
  source_excludes = [
    ".ci",
    ".git",
    ".local",
    ".notes",
    "bench",
    "coverage",
    "dist",
    "emulators",
    "node_modules",
    "terraform",
    "test",
  ]
}

data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/.."
  excludes    = local.source_excludes
  output_path = "${path.module}/build/source.zip"
}

resource "google_storage_bucket" "source" {
  name     = "${var.project_id}-restock-source"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds only build inputs

  depends_on = [google_project_service.enabled]
}

# Named by content: a code change is a new object, which redeploys the functions.
resource "google_storage_bucket_object" "source" {
  name   = "restock-fanout-${data.archive_file.source.output_sha256}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name        = each.key
  location    = var.region
  description = each.value.description

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = each.value.memory
    timeout_seconds                = each.value.timeout_seconds
    max_instance_count             = each.value.max_instances
    min_instance_count             = 0
    ingress_settings               = each.value.ingress
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function[each.key].email

    # Empty values are left out so an unused setting takes its default.
    environment_variables = { for k, v in merge(local.shared_env, local.function_env[each.key]) : k => v if v != "" }

    dynamic "secret_environment_variables" {
      for_each = local.function_secret_env[each.key]

      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        # Read when an instance starts: a rotated token reaches new instances.
        version = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_project_iam_member.function_firestore,
    google_secret_manager_secret_iam_member.delivery_reads_notifier_token,
  ]
}

locals {
  # The Cloud Run service behind each function (invoker IAM and log filters);
  # Cloud Run lower-cases the function name, so it is read, not derived.
  function_services = {
    for name, fn in google_cloudfunctions2_function.function : name => reverse(split("/", fn.service_config[0].service))[0]
  }
}
