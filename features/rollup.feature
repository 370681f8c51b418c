Feature: Rollups and reports turn the local logs into numbers users act on
  `agentos rollup` streams events.jsonl into metrics_summary.json, progress.log.md,
  trend.json and model_trend.json; `agentos demo` records sample sessions in the local tier into its demo directory (the data dir when empty, else `<data dir>/demo`, replaced on each run),
  rolls them up and prints the report. Bad lines are skipped with a diagnostic and counted;
  `--strict` makes them fatal.

  Scenario: The demo records sample sessions, rolls them up and reports
    When I run "agentos demo --data-dir demo"
    Then the exit code is 0
    And the directory "demo" holds non-empty files:
      | events.jsonl         |
      | windows.jsonl        |
      | metrics_summary.json |
      | progress.log.md      |
      | trend.json           |
      | model_trend.json     |
    And stdout contains "4 sessions, 17 turns"
    And stdout contains "ALERT anthropic: 93% of weekly capacity"
    And stdout contains "stop scheduling new windows"

  Scenario: Rolling up the same data again leaves the progress log and trendline unchanged
    When I run "agentos demo --data-dir demo"
    And I copy "demo/progress.log.md" to "progress.log.md.before"
    And I copy "demo/trend.json" to "trend.json.before"
    And I copy "demo/model_trend.json" to "model_trend.json.before"
    And I run "agentos rollup --data-dir demo"
    Then the exit code is 0
    And "demo/progress.log.md" is byte-identical to "progress.log.md.before"
    And "demo/trend.json" is byte-identical to "trend.json.before"
    And "demo/model_trend.json" is byte-identical to "model_trend.json.before"
    When I run "agentos rollup --data-dir demo"
    Then the exit code is 0
    And "demo/progress.log.md" is byte-identical to "progress.log.md.before"
    And "demo/trend.json" is byte-identical to "trend.json.before"
    And "demo/model_trend.json" is byte-identical to "model_trend.json.before"

  Scenario: Reference scenario: one turn gives features per capacity 2.0
    Given the privacy tier is "local"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    And I log a turn with:
      | model         | anthropic/reference |
      | tokens-in     | 100                 |
      | tokens-out    | 200                 |
      | cls           | 1.2                 |
      | impf          | 4.5                 |
      | churn         | 0.1                 |
      | feature-delta | 1                   |
      | capacity      | 0.5                 |
    And I end the session
    And I run "agentos rollup" in the scenario's environment
    Then every agentos command exited with code 0
    And "features_per_capacity" in the data file "metrics_summary.json" is 2.0
    And "avg_cls" in the data file "metrics_summary.json" is 1.2
    And "avg_impf" in the data file "metrics_summary.json" is 4.5
    And "avg_churn_score" in the data file "metrics_summary.json" is 0.1
    And "sessions" in the data file "metrics_summary.json" is 1
    And "turns" in the data file "metrics_summary.json" is 1
    And "diagnostics" in the data file "metrics_summary.json" is 0

  Scenario: A malformed line is skipped with a diagnostic and counted; --strict fails on it
    Given the privacy tier is "local"
    When I start a session for repo "acme/app" on branch "main" at commit "abc123"
    And I log a turn with:
      | model         | anthropic/reference |
      | tokens-in     | 100                 |
      | tokens-out    | 200                 |
      | cls           | 1.2                 |
      | impf          | 4.5                 |
      | churn         | 0.1                 |
      | feature-delta | 1                   |
      | capacity      | 0.5                 |
    And I end the session
    And the line '{"type":"turn", torn' is inserted as line 2 of the data file "events.jsonl"
    And I run "agentos rollup" in the scenario's environment
    Then the exit code is 0
    And stderr contains "events.jsonl:2: "
    And "diagnostics" in the data file "metrics_summary.json" is 1
    And "turns" in the data file "metrics_summary.json" is 1
    And "features_per_capacity" in the data file "metrics_summary.json" is 2.0
    When I run "agentos rollup --strict" in the scenario's environment
    Then the exit code is 1
    And stderr contains "events.jsonl:2: "
