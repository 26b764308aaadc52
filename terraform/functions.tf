# The gen2 functions (local.functions), built by Cloud Build from this repository's source
# (package.json `gcp-build` compiles the TypeScript; `main` is
# dist/functions/index.js, which registers every entry point).

locals {
  # The archive is an allow list: exactly the files the build reads (the
  # TypeScript tsconfig.build.json compiles, the package manifests and the
  # compiler settings), so a stray .env, key file or local state next to them
  # is never uploaded. test/unit/terraform/ checks nothing the build compiles
  # imports a file outside it. The files' text is kept in the state with the
  # data source (about 0.6 MB of source code, no secrets).
  source_root = "${path.module}/.."
  source_files = sort(concat(
    ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"],
    tolist(fileset(local.source_root, "{functions,lib}/**/*.ts")),
  ))
  # The shop's message templates (docs/channels.md), shipped beside the source under
  # templates/: every .liquid file, so a misnamed one reaches the function, which
  # refuses to start naming it, rather than being left out without a word.
  template_files = var.templates_dir == "" ? [] : sort(tolist(fileset(var.templates_dir, "**/*.liquid")))
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/build/source.zip"

  dynamic "source" {
    for_each = local.source_files

    content {
      filename = source.value
      content  = file("${local.source_root}/${source.value}")
    }
  }

  dynamic "source" {
    for_each = local.template_files

    content {
      filename = "templates/${source.value}"
      content  = file("${var.templates_dir}/${source.value}")
    }
  }
}

resource "google_storage_bucket" "source" {
  name     = local.names.source_bucket
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds only build inputs

  # Every deploy uploads a new archive (named by its content); Cloud Functions
  # copies the one it builds into its own gcf-v2-sources bucket, so old ones
  # only cost storage (issue 30 item 12). Fabric's cloud-function-v2 module
  # offers the same (bucket_config.lifecycle_delete_age_days).
  lifecycle_rule {
    condition {
      age = var.source_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# Named by content: a code change is a new object, which redeploys the functions.
resource "google_storage_bucket_object" "source" {
  name   = "restock-fanout-${data.archive_file.source.output_sha256}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.deployed_functions

  name        = "${var.name_prefix}${each.key}"
  location    = var.region
  description = each.value.description

  build_config {
    runtime           = var.runtime
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory   = each.value.memory
    timeout_seconds    = each.value.timeout_seconds
    max_instance_count = each.value.max_instances
    # One request per instance unless function_config raises it (with a whole
    # vCPU). A number of vCPUs becomes the string the API takes; null leaves
    # Cloud Run's share of the memory.
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    # fanOutRestock and deliverRestockBatch keep one warm instance each by
    # default: the first notification's path crosses both, and a cold start
    # on each is most of a second-plus (docs/deploy.md "Speed defaults").
    min_instance_count             = each.value.min_instances
    ingress_settings               = each.value.ingress
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function[each.key].email

    # Empty settings are left out so an unused setting takes its default; the
    # platform's variables are given as they are (an empty IGNORED_ROUTES counts).
    environment_variables = merge({ for k, v in merge(local.shared_env, local.function_env[each.key]) : k => v if v != "" }, local.platform_env)

    dynamic "secret_environment_variables" {
      # Empty entries are secrets of a feature not in use (terraform/channels.tf).
      for_each = { for k, v in local.function_secret_env[each.key] : k => v if v != "" }

      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        # Read when an instance starts: a rotated token reaches new instances.
        version = "latest"
      }
    }
  }

  # The build and runtime grants must have propagated (time_sleep.iam_propagation),
  # every secret a function reads must have a version (Cloud Run refuses a
  # revision that reads `latest` of a secret without one) and the database
  # must exist before the first request.
  depends_on = [
    google_project_service.enabled,
    time_sleep.iam_propagation,
    google_secret_manager_secret_version.notifier_token,
    google_secret_manager_secret_version.task_signing_key,
    google_secret_manager_secret_version.smtp_password,
    google_secret_manager_secret_version.dkim_private_key,
    google_secret_manager_secret_version.unsubscribe_key,
    google_secret_manager_secret_version.webpush_vapid_private_key,
    google_secret_manager_secret_version.pseudonym_key,
    google_firestore_database.pipeline,
  ]
}

locals {
  # The Cloud Run service behind each function (invoker IAM and log filters);
  # Cloud Run lower-cases the function name, so it is read, not derived.
  function_services = {
    for name, fn in google_cloudfunctions2_function.function : name => reverse(split("/", fn.service_config[0].service))[0]
  }
}

# Images of the functions, in a repository of their own so the build identity
# may write here and nowhere else. Each build pushes a new image per function:
# the cleanup policy keeps the most recent image_versions_kept of each and
# deletes the rest (issue 30 item 12;
# cloud.google.com/artifact-registry/docs/repositories/cleanup-policy: a KEEP
# policy wins over a DELETE policy that matches the same version).
resource "google_artifact_registry_repository" "functions" {
  repository_id = local.names.image_repository
  location      = var.region
  format        = "DOCKER"
  description   = "Images of the restock fan-out functions, written by their builds."

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "delete-all-but-recent"
    action = "DELETE"

    condition {
      tag_state = "ANY"
    }
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = var.image_versions_kept
    }
  }

  depends_on = [google_project_service.enabled]
}
