Feature: Privacy tiers decide what leaves the machine
  The recorder writes every event to the local data dir; what reaches the Cost Control Center
  (CCC) depends on the privacy tier (PRIVACY_TIER) and on a valid license granting the tier's
  entitlement. Adapted from the Python client's ccc_adapter.feature: one session with one turn,
  an explicit metrics upload, then the end of the session, against a fake CCC on 127.0.0.1.

  Background:
    Given a fake CCC on 127.0.0.1 answering 202

  Scenario: Local-only tier keeps all telemetry offline
    Given the privacy tier is "local"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    And I log a turn with:
      | model         | anthropic/behave |
      | tokens-in     | 100              |
      | tokens-out    | 200              |
      | latency-ms    | 1000             |
      | cls           | 1.2              |
      | impf          | 4.8              |
      | churn         | 0.1              |
      | feature-delta | 1.0              |
      | value-kind    | tests_passed     |
      | value-summary | BDD sample       |
      | capacity      | 0.5              |
    And I upload the metrics
    And I end the session
    Then every agentos command exited with code 0
    And the fake CCC accepted 0 connections
    And the data file "events.jsonl" has 3 lines
    And "features_per_capacity" in the data file "metrics_summary.json" is 2.0

  Scenario: Minimized tier uploads aggregated metrics only
    Given the privacy tier is "minimized"
    And a license pack "pro.pack" signed with key "k1" over:
      """
      {"schema":"ccp.license.v1","plan":"pro","features":["telemetry_minimized","telemetry_full"],"exp":4102444800,"kid":"k1"}
      """
    And the license pack "pro.pack" is installed with "agentos license install"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    And I log a turn with:
      | model         | glm/behave   |
      | tokens-in     | 100          |
      | tokens-out    | 200          |
      | latency-ms    | 1000         |
      | cls           | 1.2          |
      | impf          | 4.8          |
      | churn         | 0.1          |
      | feature-delta | 1.0          |
      | value-kind    | tests_passed |
      | value-summary | BDD sample   |
      | capacity      | 0.25         |
    Then the fake CCC accepted 0 connections
    When I upload the metrics
    Then the fake CCC received 1 "POST /v1/metrics" request
    And the last "POST /v1/metrics" request body has "/summary/features_per_capacity" equal to 4.0
    # Ending a session in the minimized tier queues (and delivers) the final summary as well.
    When I end the session
    Then every agentos command exited with code 0
    And the fake CCC received 2 "POST /v1/metrics" requests
    And the fake CCC received 0 "POST /v1/events" requests
    And the "POST /v1/metrics" requests carry distinct "Idempotency-Key" headers
    And every "POST /v1/metrics" request body has only keys from:
      | idempotency_key |
      | summary         |
    And in every "POST /v1/metrics" request body, "/summary" has only keys from:
      | schema_version           |
      | generated_at             |
      | period                   |
      | sessions                 |
      | turns                    |
      | features_shipped         |
      | capacity_used            |
      | features_per_capacity    |
      | avg_cls                  |
      | avg_impf                 |
      | avg_churn_score          |
      | tokens_in                |
      | tokens_out               |
      | cost_usd                 |
      | cost_per_shipped_feature |
    And no request body contains "glm/behave"
    And no request body contains "BDD sample"
    And no request body contains "acme/app"
    And "features_per_capacity" in the data file "metrics_summary.json" is 4.0

  Scenario: Full tier uploads redacted events and metrics
    Given the privacy tier is "full"
    And a license pack "pro.pack" signed with key "k1" over:
      """
      {"schema":"ccp.license.v1","plan":"pro","features":["telemetry_minimized","telemetry_full"],"exp":4102444800,"kid":"k1"}
      """
    And the license pack "pro.pack" is installed with "agentos license install"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    And I log a turn with:
      | model         | glm/behave   |
      | tokens-in     | 100          |
      | tokens-out    | 200          |
      | latency-ms    | 1000         |
      | cls           | 1.2          |
      | impf          | 4.8          |
      | churn         | 0.1          |
      | feature-delta | 1.0          |
      | value-kind    | tests_passed |
      | value-summary | BDD sample   |
      | capacity      | 0.75         |
    And I upload the metrics
    And I end the session
    Then every agentos command exited with code 0
    And the fake CCC received at least 1 "POST /v1/events" request
    And the "POST /v1/events" requests hold at least 1 "session" event
    And the "POST /v1/events" requests hold at least 1 "turn" event
    And the "POST /v1/events" requests hold at least 1 "session_end" event
    And in every "turn" event sent, "value" has only keys from:
      | summary |
      | links   |
    And the fake CCC received at least 1 "POST /v1/metrics" request
    And no request body contains "BDD sample"
    And no request body contains "acme/app"
    And "features_per_capacity" in the data file "metrics_summary.json" rounded to 4 decimals is 1.3333

  Scenario: An expired license sends nothing and keeps every event locally
    Given the privacy tier is "minimized"
    And a license pack "expired.pack" signed with key "k1" over:
      """
      {"schema":"ccp.license.v1","plan":"pro","features":["telemetry_minimized","telemetry_full"],"exp":1000000000,"kid":"k1"}
      """
    And LICENSE_PACK_PATH names the license pack "expired.pack"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    Then the exit code is 0
    And stderr contains "uploads denied for the minimized tier"
    When I log a turn with:
      | model         | glm/behave   |
      | tokens-in     | 100          |
      | tokens-out    | 200          |
      | cls           | 1.2          |
      | impf          | 4.8          |
      | churn         | 0.1          |
      | feature-delta | 1.0          |
      | value-summary | BDD sample   |
      | value-kind    | tests_passed |
      | capacity      | 0.25         |
    Then the exit code is 0
    When I upload the metrics
    Then the exit code is 1
    And stderr contains "uploads denied for the minimized tier: license expired"
    When I end the session
    Then the exit code is 0
    And the fake CCC accepted 0 connections
    And the data file "events.jsonl" has 3 lines
    And the data file "events.jsonl" holds 1 "turn" event
    And the data file "events.jsonl" holds 1 "session_end" event
    And "features_per_capacity" in the data file "metrics_summary.json" is 4.0
