#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: health_gate
short_description: Ask a health gate - a URL until it answers 2xx, or a command until it exits 0 - within a bounded time
version_added: 0.2.0
description:
  - Runs on the controller (an action plugin; no module is sent to a host). The widen and narrow flows
    ask it after each step; a failed gate moves the run back.
  - Asks the gate until it passes or O(timeout) seconds have passed, one try every O(interval) seconds.
    Every try is bounded too - by O(try_timeout) and by what is left of O(timeout) (at least one
    second) - so the gate always ends within O(timeout) plus about one second.
  - O(command) runs as a list of arguments, never through a shell, with no standard input, in a process
    group of its own. A try that outlives its bound is killed with its whole process group (SIGTERM,
    then SIGKILL a second later) and counts as failed; the output it wrote so far is kept.
  - O(url) is asked with GET. Redirects are not followed unless O(follow_redirects) is true - a 3xx fails
    the gate, naming the (masked) C(Location). Credentials in the URL (C(user:password@)) are sent as
    HTTP basic authentication and never to another host a redirect leads to. Certificates are verified.
  - The URL is never shown as given - messages and results carry it with its credentials, query values
    and fragment replaced by C(***) (scheme, host and path stay), and any of those values found anywhere
    in the result is replaced too.
  - The body of a URL's answer, or a command's output, is shown (first 500 characters, control
    characters escaped) in the message, and kept (first 4096 characters) in RV(output).
attributes:
  check_mode:
    support: full
    details:
      - Check mode asks nothing and returns C(skipped).
  diff_mode:
    support: none
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - gameops.elastic_release.controller
options:
  url:
    description:
      - An http(s) URL that must answer 2xx. Never logged or shown as given.
      - Give O(url) or O(command).
    type: str
  command:
    description:
      - A command, as a list of arguments (or that list as JSON text), that must exit 0. Never run through a shell.
      - Give O(url) or O(command).
    type: raw
  timeout:
    description:
      - Seconds to keep asking before the gate counts as failed. C(0) asks once.
    type: int
    default: 60
  interval:
    description:
      - Seconds between the end of one try and the start of the next.
    type: int
    default: 5
  try_timeout:
    description:
      - Seconds one try may take (a command is killed, a URL abandoned, after that), never more than
        what is left of O(timeout).
    type: int
    default: 30
  follow_redirects:
    description:
      - Follow redirects of O(url) (at most 10) and judge the last answer. By default a 3xx fails the gate.
    type: bool
    default: false
notes:
  - The flows pass C(-e gate_url), C(-e gate_command), C(-e gate_timeout), C(-e gate_interval),
    C(-e gate_try_timeout) and C(-e gate_follow_redirects) here through the C(move) role.
seealso:
  - module: gameops.elastic_release.zk_release_move
  - module: gameops.elastic_release.flow_check
author:
  - GameOps release engineering (@gameops)
'''

EXAMPLES = r'''
- name: Ask the monitor until the gray release is healthy (10 minutes at most)
  gameops.elastic_release.health_gate:
    url: "https://monitor.example.com/health/gray1?token={{ monitor_token }}"
    timeout: 600
    interval: 10
  register: gate
  failed_when: false

- name: Ask a check script, each try bounded to 20 seconds
  gameops.elastic_release.health_gate:
    command: [/usr/local/bin/check_gray, gray1, --max-error-rate, "0.5"]
    timeout: 300
    try_timeout: 20
'''

RETURN = r'''
passed:
  description: Whether the gate passed (null in check mode).
  returned: always
  type: bool
answer:
  description: What the gate answered last, on one line - the masked URL and its status and body, or the
    command, its exit code and output - with the number of tries when it failed.
  returned: when asked
  type: str
  sample: "http://monitor/health?token=*** answered 503: {\"error_rate\": 0.07} (12 tries in 60.2s, gate_timeout 60s)"
kind:
  description: C(url) or C(command).
  returned: when asked
  type: str
target:
  description: The masked URL, or the command's arguments.
  returned: when asked
  type: raw
tries:
  description: How many times the gate was asked.
  returned: when asked
  type: int
seconds:
  description: How long the gate took.
  returned: when asked
  type: float
status:
  description: The HTTP status of the last answer (null for a command, or when no answer came).
  returned: when asked
  type: int
location:
  description: The masked C(Location) of a redirect that was not followed.
  returned: when asked
  type: str
rc:
  description: The exit code of the last try of a command (null when it was killed at its bound).
  returned: when asked
  type: int
timed_out:
  description: Whether the last try outlived its bound (a command killed with its process group, a URL that did not answer).
  returned: when asked
  type: bool
output:
  description: The first 4096 characters of the last body or output, control characters escaped.
  returned: when asked
  type: str
output_bytes:
  description: How many bytes the last try's body or output held (what was read of it).
  returned: when asked
  type: int
'''
