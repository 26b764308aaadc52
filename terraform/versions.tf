# Versions are pinned so that a plan made today means the same thing next month.
# The lower bounds are the versions whose schemas test/unit/terraform/
# checks every block and reference against on every run (hashicorp/google
# 6.50.0, hashicorp/archive 2.7.1 and hashicorp/time 0.13.1, from their prebuilt CDKTF bindings on
# npm). hashicorp/google-beta is pinned to the same release as hashicorp/google
# and used for one resource only, google_project_service_identity (the Pub/Sub
# service agent, terraform/pubsub.tf), which the GA provider does not have; its
# schema is checked against the provider's source (test/unit/terraform/schema.ts).
# Commit the .terraform.lock.hcl that `terraform init` writes here.
terraform {
  required_version = ">= 1.11.0, < 2.0.0" # ephemeral variables and write-only arguments

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}

provider "google-beta" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}
