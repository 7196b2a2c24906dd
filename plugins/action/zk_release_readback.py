# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Connection options not set by the task come from the inventory's elastic_release_zk_* variables.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_action import ZkModuleAction as ActionModule  # noqa: F401  pylint: disable=unused-import
