#!/usr/bin/env bash
# kibana-setup (Docker backend, one shot): Kibana's view of the container logs, created idempotently.
#   data-view.json           the data view "filebeat" on filebeat-* (the index Filebeat writes), time @timestamp
#   app-errors-search.json   the saved search "chaos-app-errors": the app replicas' error lines, newest first
# Both are written with overwrite, so running this again (every `compose up`) changes nothing.
# Runs in the Kibana image (bash + curl) once Kibana is healthy; the notebooks link to the search.
set -euo pipefail

KIBANA_URL="${KIBANA_URL:-http://kibana:5601}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ATTEMPTS="${ATTEMPTS:-10}"

# post PATH FILE: POST the JSON file to Kibana, retried while Kibana settles; fails with Kibana's answer.
post() {
  local path="$1" file="$2" out code attempt
  out="$(mktemp)"
  for attempt in $(seq 1 "$ATTEMPTS"); do
    code="$(curl -sS -o "$out" -w '%{http_code}' -X POST "${KIBANA_URL}${path}" \
      -H 'kbn-xsrf: true' -H 'Content-Type: application/json' --data-binary "@${HERE}/${file}")" || code=000
    if [[ "$code" == 2?? ]]; then
      echo "kibana-setup: ${file} -> ${path}: ${code}"
      rm -f "$out"
      return 0
    fi
    echo "kibana-setup: ${path} answered ${code} (attempt ${attempt}/${ATTEMPTS}): $(head -c 300 "$out" 2>/dev/null)" >&2
    sleep 3
  done
  rm -f "$out"
  return 1
}

post /api/data_views/data_view data-view.json
post "/api/saved_objects/search/chaos-app-errors?overwrite=true" app-errors-search.json
