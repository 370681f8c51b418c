Feature: Verifying CCP-signed license packs offline
  AgentOS accepts exactly the license packs CCP's issuer signs: an Ed25519 signature over the
  exact bytes of the `license` value, a key from the ring (here `CCP_LICENSE_PUBKEY_B64`), then
  CCP's checks in order (signature, schema, expiry, device). `agentos license verify` exits 0
  for a valid pack, 1 with the reason for an invalid one; anything wrong grants nothing.

  Background:
    Given a license pack "pro.pack" signed with key "k1" over:
      """
      {"schema":"ccp.license.v1","sub":"dev@example.com","plan":"pro","features":["telemetry_minimized","mixed_models"],"exp":4102444800,"iat":1761102738,"kid":"k1","nonce":"n-1"}
      """
    And a copy "forged.pack" of "pro.pack" with one byte of the license changed: '"exp":4102444800' becomes '"exp":9102444800'
    And a license pack "other-device.pack" signed with key "k1" over:
      """
      {"schema":"ccp.license.v1","sub":"dev@example.com","plan":"pro","features":["telemetry_minimized"],"exp":4102444800,"iat":1761102738,"device":"another-machine-id","kid":"k1","nonce":"n-2"}
      """
    And a license pack "stranger.pack" signed with the untrusted key "k9" over:
      """
      {"schema":"ccp.license.v1","sub":"dev@example.com","plan":"pro","features":["telemetry_minimized"],"exp":4102444800,"iat":1761102738,"kid":"k9","nonce":"n-3"}
      """

  Scenario: A valid pack verifies and names its plan and features
    When I run "agentos license verify pro.pack --json" in the scenario's environment
    Then the exit code is 0
    And stdout contains '"valid":true'
    And the JSON on stdout has "/reason" = null
    And the JSON on stdout has "/claims/plan" = "pro"
    And the JSON on stdout has "/claims/features" = ["telemetry_minimized","mixed_models"]
    When I run "agentos license verify pro.pack" in the scenario's environment
    Then the exit code is 0
    And stdout contains "valid: plan pro"
    And stdout contains "telemetry_minimized"
    And stdout contains "kid:      k1"

  Scenario Outline: verify answers valid, or invalid with the reason (<case>)
    When I run "agentos license verify <pack> --json <flags>" in the scenario's environment
    Then the exit code is <code>
    And the JSON on stdout has "/valid" = <valid>
    And the JSON on stdout has "/reason" = <reason>

    Examples:
      | case                         | pack              | flags                       | code | valid | reason               |
      | valid                        | pro.pack          |                             | 0    | true  | null                 |
      | at exp, still valid          | pro.pack          | --now 4102444800            | 0    | true  | null                 |
      | one second after exp         | pro.pack          | --now 4102444801            | 1    | false | "expired"            |
      | one byte flipped             | forged.pack       |                             | 1    | false | "signature_mismatch" |
      | bound to another device      | other-device.pack |                             | 1    | false | "device_mismatch"    |
      | checked as that other device | other-device.pack | --device another-machine-id | 0    | true  | null                 |
      | signed by a key not in ring  | stranger.pack     |                             | 1    | false | "unknown_key"        |

  Scenario Outline: CCP's own license vector "<vector>" gives the same answer through the binary
    Given a pack "vector.pack" made from the CCP license vector "<vector>"
    And the CCP license vectors' public key is trusted as "k1"
    When I run "agentos license verify vector.pack --json <flags>" in the scenario's environment
    Then the exit code is <code>
    And the JSON on stdout has "/valid" = <valid>
    And the JSON on stdout has "/reason" = <reason>

    Examples:
      | vector                     | flags                                 | code | valid | reason               |
      | issuer_style_ok            | --now 1761200000                      | 0    | true  | null                 |
      | now_equals_exp_still_valid | --now 4102444800                      | 0    | true  | null                 |
      | expired                    | --now 4102444801                      | 1    | false | "expired"            |
      | reindented_same_sig        | --now 1761200000                      | 1    | false | "signature_mismatch" |
      | schema_mismatch            | --now 1761200000                      | 1    | false | "schema_mismatch"    |
      | device_match               | --now 1761200000 --device HOSTHASH    | 0    | true  | null                 |
      | device_mismatch            | --now 1761200000 --device OTHER       | 1    | false | "device_mismatch"    |

  Scenario: The positive CCP vector names its plan, features and kid
    Given a pack "vector.pack" made from the CCP license vector "issuer_style_ok"
    And the CCP license vectors' public key is trusted as "k1"
    When I run "agentos license verify vector.pack --json --now 1761200000" in the scenario's environment
    Then the exit code is 0
    And the JSON on stdout has "/claims/plan" = "pro"
    And the JSON on stdout has "/claims/features" = ["zai_offload"]
    And the JSON on stdout has "/claims/kid" = "k1"
    And the JSON on stdout has "/claims/sub" = "dev@example.com"

  Scenario: An installed pack grants its features and denies the rest
    When I run "agentos license status" in the scenario's environment
    Then the exit code is 1
    And stdout contains "no license installed"
    When I run "agentos license install pro.pack" in the scenario's environment
    Then the exit code is 0
    And stdout contains "installed"
    When I run "agentos license status --json" in the scenario's environment
    Then the exit code is 0
    And the JSON on stdout has "/valid" = true
    And the JSON on stdout has "/claims/plan" = "pro"
    When I run "agentos license entitlements" in the scenario's environment
    Then the exit code is 0
    And the entitlements include:
      | telemetry_minimized | granted |
      | mixed_models        | granted |
      | telemetry_full      | denied  |
      | advanced_dashboards | denied  |

  Scenario Outline: Installing an invalid pack is refused and grants nothing (<case>)
    When I run "agentos license install <pack> <flags>" in the scenario's environment
    Then the exit code is 1
    And stdout contains "<message>"
    When I run "agentos license entitlements" in the scenario's environment
    Then the exit code is 1
    And the entitlements include:
      | telemetry_minimized | denied |
      | mixed_models        | denied |

    Examples:
      | case             | pack              | flags            | message                                                 |
      | expired          | pro.pack          | --now 4102444801 | invalid: license expired at 2100-01-01T00:00:00Z        |
      | one byte flipped | forged.pack       |                  | invalid: license signature mismatch                     |
      | another device   | other-device.pack |                  | invalid: license is bound to device another-machine-id |
      | unknown key      | stranger.pack     |                  | signed with key id `k9`, which is not in the key ring   |
