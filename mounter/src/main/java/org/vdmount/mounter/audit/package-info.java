/**
 * The audit trail: one JSON line per attach, detach, verify, commit and serve in an append-only file
 * ({@code /var/log/vdmount/audit.jsonl} by default), saying who did what to which image files and
 * with which devices, for forensic records.
 */
package org.vdmount.mounter.audit;
