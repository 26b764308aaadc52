# State lives in a GCS bucket chosen at init time, never hard-coded here:
#
#   terraform init \
#     -backend-config="bucket=<state-bucket>" \
#     -backend-config="prefix=restock-fanout"
#
# See docs/deploy.md "First deployment" for creating the bucket.
terraform {
  backend "gcs" {}
}
