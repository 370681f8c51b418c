Feature: Validating files against the AgentOS schemas
  Anyone holding CCP output or an AgentOS event log can check it against the contract with
  the agentos binary: every violation names file, line and JSON pointer.

  Scenario: A real CCP capture validates
    Given a copy of the CCP capture "usage_basic.jsonl"
    When I run "agentos schema validate --kind ccp-usage-line usage_basic.jsonl"
    Then the exit code is 0
    And stdout contains "usage_basic.jsonl: ok (7 valid ccp-usage-line documents)"

  Scenario: A wrongly typed field fails, naming file, line and pointer
    Given a file "quotas.json" containing:
      """
      {
        "config": {
          "windows": {"rolling_seconds": "5h", "weekly_seconds": 604800},
          "models": {}
        },
        "path": "",
        "loaded": "2026-11-22T01:26:03Z"
      }
      """
    When I run "agentos schema validate --kind ccp-quotas quotas.json"
    Then the exit code is 1
    And stdout has 1 line starting with "quotas.json:3: /config/windows/rolling_seconds: "

  Scenario: A torn line in a JSONL file is a violation on its line
    Given a file "usage.jsonl" containing:
      """
      {"ts":1795310558.7,"rid":"18d2d168","lane":"zai","model":"m","status":200}
      {"ts":1795310558.9,"rid":"6f67
      """
    When I run "agentos schema validate --kind ccp-usage-line usage.jsonl"
    Then the exit code is 1
    And stdout has 1 line starting with "usage.jsonl:2: /: not JSON"

  Scenario: Events the Python client wrote are valid v1 events
    Given a copy of the Python-written event log "python_written.jsonl"
    When I run "agentos schema validate --kind v1-event python_written.jsonl"
    Then the exit code is 0

  Scenario: An unknown schema name is a usage error that lists the valid names
    Given a copy of the CCP capture "v1_usage.json"
    When I run "agentos schema validate --kind ccp-usages v1_usage.json"
    Then the exit code is 2
    And stderr contains 'unknown schema "ccp-usages": use one of v1-event, v1-session'

  Scenario: A missing file is a usage error
    When I run "agentos schema validate --kind ccp-usage missing.json"
    Then the exit code is 2
    And stderr contains "cannot read missing.json"
