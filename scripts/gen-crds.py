#!/usr/bin/env python3
"""Writes deploy/crds/*.yaml: the velero.io/v1 CustomResourceDefinitions Arca serves.

The schemas follow ../shared/reference/velero-api.md section 1. They are structural, so that the
API server rejects a malformed resource (a string where a list belongs, an unknown phase) with a
message naming the field. Run after changing a schema here; the YAML files are committed and
embedded into the `arca` binary by src/api/CMakeLists.txt.
"""
import json
import os
import sys

S = {"type": "string"}
I = {"type": "integer"}
B = {"type": "boolean"}
T = {"type": "string", "format": "date-time", "nullable": True}
DURATION = {"type": "string", "description": "A Go duration such as 720h0m0s or 1h30m."}
STRINGS = {"type": "array", "items": S, "nullable": True}
MAP = {"type": "object", "additionalProperties": S, "nullable": True}
FREE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "nullable": True}


def obj(props, required=None, nullable=True, description=None):
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if nullable:
        out["nullable"] = True
    if description:
        out["description"] = description
    return out


def enum(*values, description=None):
    out = {"type": "string", "enum": list(values)}
    if description:
        out["description"] = description
    return out


def array(items):
    return {"type": "array", "items": items, "nullable": True}


LABEL_SELECTOR = obj({
    "matchLabels": MAP,
    "matchExpressions": array(obj({
        "key": S,
        "operator": enum("In", "NotIn", "Exists", "DoesNotExist"),
        "values": STRINGS,
    }, required=["key", "operator"], nullable=False)),
}, description="A metav1.LabelSelector.")
SECRET_KEY = obj({"name": S, "key": S, "optional": {"type": "boolean", "nullable": True}},
                 required=["key"])
LOCAL_REF = obj({"apiGroup": {"type": "string", "nullable": True}, "kind": S, "name": S},
                required=["kind", "name"])
ON_ERROR = enum("Continue", "Fail")
EXEC_HOOK = obj({
    "container": S,
    "command": {"type": "array", "items": S, "minItems": 1},
    "onError": ON_ERROR,
    "timeout": DURATION,
}, required=["command"], nullable=False)
BACKUP_HOOKS = obj({"resources": array(obj({
    "name": S,
    "includedNamespaces": STRINGS,
    "excludedNamespaces": STRINGS,
    "includedResources": STRINGS,
    "excludedResources": STRINGS,
    "labelSelector": LABEL_SELECTOR,
    "pre": array(obj({"exec": EXEC_HOOK}, required=["exec"], nullable=False)),
    "post": array(obj({"exec": EXEC_HOOK}, required=["exec"], nullable=False)),
}, required=["name"], nullable=False))})
FILTERS = {
    "includedNamespaces": STRINGS,
    "excludedNamespaces": STRINGS,
    "includedResources": STRINGS,
    "excludedResources": STRINGS,
    "includeClusterResources": {"type": "boolean", "nullable": True},
    "labelSelector": LABEL_SELECTOR,
    "orLabelSelectors": array(LABEL_SELECTOR),
}
BACKUP_SPEC = obj(dict(FILTERS, **{
    "metadata": obj({"labels": MAP}),
    "includedClusterScopedResources": STRINGS,
    "excludedClusterScopedResources": STRINGS,
    "includedNamespaceScopedResources": STRINGS,
    "excludedNamespaceScopedResources": STRINGS,
    "snapshotVolumes": {"type": "boolean", "nullable": True},
    "ttl": DURATION,
    "volumeGroupSnapshotLabelKey": S,
    "hooks": BACKUP_HOOKS,
    "storageLocation": S,
    "volumeSnapshotLocations": STRINGS,
    "defaultVolumesToRestic": {"type": "boolean", "nullable": True},
    "defaultVolumesToFsBackup": {"type": "boolean", "nullable": True},
    "orderedResources": MAP,
    "csiSnapshotTimeout": DURATION,
    "itemOperationTimeout": DURATION,
    "resourcePolicy": LOCAL_REF,
    "snapshotMoveData": {"type": "boolean", "nullable": True},
    "datamover": S,
    "uploaderConfig": obj({"parallelFilesUpload": I}),
}))
HOOK_STATUS = obj({"hooksAttempted": I, "hooksFailed": I})
BACKUP_PHASES = ["New", "Queued", "ReadyToStart", "FailedValidation", "InProgress",
                 "WaitingForPluginOperations", "WaitingForPluginOperationsPartiallyFailed",
                 "Finalizing", "FinalizingPartiallyFailed", "Completed", "PartiallyFailed",
                 "Failed", "Deleting"]
BACKUP_STATUS = obj({
    "version": I,
    "formatVersion": S,
    "expiration": T,
    "phase": enum(*BACKUP_PHASES),
    "queuePosition": I,
    "validationErrors": STRINGS,
    "startTimestamp": T,
    "completionTimestamp": T,
    "volumeSnapshotsAttempted": I,
    "volumeSnapshotsCompleted": I,
    "failureReason": S,
    "warnings": I,
    "errors": I,
    "progress": obj({"totalItems": I, "itemsBackedUp": I}),
    "csiVolumeSnapshotsAttempted": I,
    "csiVolumeSnapshotsCompleted": I,
    "backupItemOperationsAttempted": I,
    "backupItemOperationsCompleted": I,
    "backupItemOperationsFailed": I,
    "hookStatus": HOOK_STATUS,
})
RESTORE_HOOKS = obj({"resources": array(obj({
    "name": S,
    "includedNamespaces": STRINGS,
    "excludedNamespaces": STRINGS,
    "includedResources": STRINGS,
    "excludedResources": STRINGS,
    "labelSelector": LABEL_SELECTOR,
    "postHooks": array(obj({
        "exec": obj({
            "container": S,
            "command": {"type": "array", "items": S, "minItems": 1},
            "onError": ON_ERROR,
            "execTimeout": DURATION,
            "waitTimeout": DURATION,
            "waitForReady": {"type": "boolean", "nullable": True},
        }, required=["command"]),
        "init": obj({
            "initContainers": {"type": "array", "nullable": True, "items": FREE},
            "timeout": DURATION,
        }),
    }, nullable=False)),
}, required=["name"], nullable=False))})
RESTORE_SPEC = obj(dict(FILTERS, **{
    "backupName": S,
    "scheduleName": S,
    "namespaceMapping": MAP,
    "restorePVs": {"type": "boolean", "nullable": True},
    "restoreStatus": obj({"includedResources": STRINGS, "excludedResources": STRINGS}),
    "preserveNodePorts": {"type": "boolean", "nullable": True},
    "hooks": RESTORE_HOOKS,
    "existingResourcePolicy": {"type": "string", "enum": ["", "none", "update"]},
    "itemOperationTimeout": DURATION,
    "resourceModifier": LOCAL_REF,
    "uploaderConfig": obj({"writeSparseFiles": {"type": "boolean", "nullable": True},
                           "parallelFilesDownload": I}),
}))
RESTORE_STATUS = obj({
    "phase": enum("New", "FailedValidation", "InProgress", "WaitingForPluginOperations",
                  "WaitingForPluginOperationsPartiallyFailed", "Finalizing",
                  "FinalizingPartiallyFailed", "Completed", "PartiallyFailed", "Failed"),
    "validationErrors": STRINGS,
    "warnings": I,
    "errors": I,
    "failureReason": S,
    "startTimestamp": T,
    "completionTimestamp": T,
    "progress": obj({"totalItems": I, "itemsRestored": I}),
    "restoreItemOperationsAttempted": I,
    "restoreItemOperationsCompleted": I,
    "restoreItemOperationsFailed": I,
    "hookStatus": HOOK_STATUS,
})
BSL_SPEC = obj({
    "provider": S,
    "config": MAP,
    "credential": SECRET_KEY,
    "objectStorage": obj({
        "bucket": {"type": "string", "minLength": 1},
        "prefix": S,
        "caCert": {"type": "string", "format": "byte"},
        "caCertRef": SECRET_KEY,
    }, required=["bucket"], nullable=False),
    "default": B,
    "accessMode": {"type": "string", "enum": ["", "ReadOnly", "ReadWrite"]},
    "backupSyncPeriod": {"type": "string", "nullable": True},
    "validationFrequency": {"type": "string", "nullable": True},
}, required=["provider", "objectStorage"], nullable=False)
BSL_STATUS = obj({
    "phase": enum("Available", "Unavailable"),
    "lastSyncedTime": T,
    "lastValidationTime": T,
    "message": S,
    "lastSyncedRevision": S,
    "accessMode": S,
})
PHASE_NEW_PROCESSED = enum("New", "Processed")
DOWNLOAD_KINDS = ["BackupLog", "BackupContents", "BackupVolumeSnapshots", "BackupItemOperations",
                  "BackupResourceList", "BackupResults", "RestoreLog", "RestoreResults",
                  "RestoreResourceList", "RestoreItemOperations", "CSIBackupVolumeSnapshots",
                  "CSIBackupVolumeSnapshotContents", "BackupVolumeInfos", "RestoreVolumeInfo"]
POD_VOLUME_PHASES = ["New", "Accepted", "Prepared", "InProgress", "Canceling", "Canceled",
                     "Completed", "Failed"]
OBJECT_REF = obj({"apiVersion": S, "kind": S, "namespace": S, "name": S, "uid": S,
                  "resourceVersion": S, "fieldPath": S})


def column(name, path, kind="string", description=None, priority=None):
    out = {"name": name, "type": kind, "jsonPath": path}
    if description:
        out["description"] = description
    if priority is not None:
        out["priority"] = priority
    return out


AGE = column("Age", ".metadata.creationTimestamp", "date")

KINDS = [
    ("Backup", "backups", [], BACKUP_SPEC, BACKUP_STATUS,
     [column("Status", ".status.phase", description="Backup phase"),
      column("Errors", ".status.errors", "integer"),
      column("Warnings", ".status.warnings", "integer"),
      column("Created", ".status.startTimestamp", "date"),
      column("Expires", ".status.expiration", "date"),
      column("Storage Location", ".spec.storageLocation"),
      AGE]),
    ("Restore", "restores", [], RESTORE_SPEC, RESTORE_STATUS,
     [column("Backup", ".spec.backupName"),
      column("Status", ".status.phase"),
      column("Started", ".status.startTimestamp", "date"),
      column("Completed", ".status.completionTimestamp", "date"),
      column("Errors", ".status.errors", "integer"),
      column("Warnings", ".status.warnings", "integer"),
      AGE]),
    ("Schedule", "schedules", [],
     obj({
         "template": BACKUP_SPEC,
         "schedule": {"type": "string", "minLength": 1},
         "useOwnerReferencesInBackup": {"type": "boolean", "nullable": True},
         "paused": B,
         "skipImmediately": {"type": "boolean", "nullable": True},
     }, required=["template", "schedule"], nullable=False),
     obj({"phase": enum("New", "Enabled", "FailedValidation"), "lastBackup": T,
          "lastSkipped": T, "validationErrors": STRINGS}),
     [column("Status", ".status.phase"),
      column("Schedule", ".spec.schedule"),
      column("LastBackup", ".status.lastBackup", "date"),
      AGE,
      column("Paused", ".spec.paused", "boolean")]),
    ("BackupStorageLocation", "backupstoragelocations", ["bsl"], BSL_SPEC, BSL_STATUS,
     [column("Phase", ".status.phase"),
      column("Last Validated", ".status.lastValidationTime", "date"),
      AGE,
      column("Default", ".spec.default", "boolean")]),
    ("VolumeSnapshotLocation", "volumesnapshotlocations", ["vsl"],
     obj({"provider": S, "config": MAP, "credential": SECRET_KEY}, required=["provider"],
         nullable=False),
     obj({"phase": enum("Available", "Unavailable")}),
     [AGE]),
    ("DeleteBackupRequest", "deletebackuprequests", [],
     obj({"backupName": {"type": "string", "minLength": 1}}, required=["backupName"],
         nullable=False),
     obj({"phase": enum("New", "InProgress", "Processed"), "errors": STRINGS}),
     [column("BackupName", ".spec.backupName"), column("Status", ".status.phase")]),
    ("DownloadRequest", "downloadrequests", [],
     obj({"target": obj({"kind": enum(*DOWNLOAD_KINDS), "name": {"type": "string", "minLength": 1}},
                        required=["kind", "name"], nullable=False)},
         required=["target"], nullable=False),
     obj({"phase": PHASE_NEW_PROCESSED, "downloadURL": S, "expiration": T}),
     [AGE]),
    ("ServerStatusRequest", "serverstatusrequests", ["ssr"],
     obj({}),
     obj({"phase": PHASE_NEW_PROCESSED, "processedTimestamp": T, "serverVersion": S,
          "plugins": array(obj({"name": S, "kind": S}, nullable=False))}),
     [AGE]),
    ("PodVolumeBackup", "podvolumebackups", [],
     obj({"node": S, "pod": OBJECT_REF, "volume": S, "backupStorageLocation": S,
          "repoIdentifier": S, "uploaderType": S, "tags": MAP, "uploaderSettings": MAP,
          "cancel": B}),
     obj({"phase": enum(*POD_VOLUME_PHASES), "path": S, "snapshotID": S, "message": S,
          "startTimestamp": T, "completionTimestamp": T, "acceptedTimestamp": T,
          "progress": obj({"totalBytes": I, "bytesDone": I}), "incrementalBytes": I}),
     [column("Status", ".status.phase"), AGE]),
    ("PodVolumeRestore", "podvolumerestores", [],
     obj({"pod": OBJECT_REF, "volume": S, "backupStorageLocation": S, "repoIdentifier": S,
          "uploaderType": S, "snapshotID": S, "sourceNamespace": S, "uploaderSettings": MAP,
          "cancel": B, "snapshotSize": I}),
     obj({"phase": enum(*POD_VOLUME_PHASES), "message": S, "startTimestamp": T,
          "completionTimestamp": T, "acceptedTimestamp": T, "node": S,
          "progress": obj({"totalBytes": I, "bytesDone": I})}),
     [column("Status", ".status.phase"), AGE]),
    ("BackupRepository", "backuprepositories", [],
     obj({"volumeNamespace": S, "backupStorageLocation": S, "repositoryType": S,
          "resticIdentifier": S, "maintenanceFrequency": DURATION, "repositoryConfig": MAP}),
     obj({"phase": enum("New", "Ready", "NotReady"), "message": S, "lastMaintenanceTime": T,
          "recentMaintenance": array(obj({"result": enum("Succeeded", "Failed"),
                                          "startTimestamp": T, "completeTimestamp": T,
                                          "message": S}, nullable=False))}),
     [AGE]),
]


def crd(kind, plural, short, spec, status, columns):
    names = {"kind": kind, "listKind": kind + "List", "plural": plural,
             "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    schema = {"type": "object", "properties": {
        "apiVersion": S, "kind": S, "metadata": {"type": "object"},
        "spec": spec, "status": status}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": plural + ".velero.io",
                     "labels": {"component": "velero", "app.kubernetes.io/part-of": "arca"}},
        "spec": {
            "group": "velero.io",
            "scope": "Namespaced",
            "names": names,
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "additionalPrinterColumns": columns,
                # No status subresource, as in Velero: controllers patch the main resource.
                "subresources": {},
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


def to_yaml(value, indent=0):
    """Block-style YAML for JSON-like values; strings are JSON-quoted (valid YAML)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:\n{to_yaml(v, indent + 2)}")
            else:
                lines.append(f"{pad}{k}: {to_yaml(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for v in value:
            if isinstance(v, dict) and v:
                body = to_yaml(v, indent + 2)
                lines.append(f"{pad}- {body[indent + 2:]}")
            else:
                lines.append(f"{pad}- {to_yaml(v)}")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text and all(c.isalnum() or c in "._-/" for c in text) and text not in (
            "true", "false", "null", "yes", "no", "on", "off") and not text[0].isdigit():
        return text
    return json.dumps(text)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "crds")
    os.makedirs(out_dir, exist_ok=True)
    for kind in KINDS:
        doc = crd(*kind)
        path = os.path.join(out_dir, f"velero.io_{kind[1]}.yaml")
        with open(path, "w") as f:
            f.write("# Generated by scripts/gen-crds.py; edit the script, not this file.\n")
            f.write("---\n" + to_yaml(doc) + "\n")


if __name__ == "__main__":
    main()
