#!/usr/bin/env bash
# End-to-end test of CIFS integrity monitoring (manual chapter 16) against a real smbd on
# loopback, started and stopped here, with an SMB user, a PKCS#12 integrity certificate and an
# SMTP sink made by the test. bulwark-control runs the operations (next to a dataplane on null
# ports, as on a box); the `bulwark cifs` CLI drives them.
# Usage: cifs.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/../netns/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../tools/cifs/lab_smbd.sh"
BULWARK="$BUILD/tools/bulwark"

SMB_USER=bwcifs$TAG
SMB_PASSWORD="Smb-pw-$RANDOM-x7"
P12_PASSWORD="P12-pw-$RANDOM-q3"
SMB_PORT=$((20000 + TAG % 20000))
SMTP_PORT=$((SMB_PORT + 1))
cifs_cleanup() {
  local rc=$?
  set +e
  lab_smbd_stop
  (exit "$rc")
  cleanup
}
trap cifs_cleanup EXIT
chmod 755 "$TMP"

# --- the Windows PC: a private smbd with the two shares of the manual (16.2) -------------------
S=$TMP/smb
P=$S/programs
mkdir -p $P
mkdir -p "$P/Tools/Sub Dir" "$P/Common Files" "$P/Windows NT/Zubehör"
echo "setup program" >"$P/setup.exe"
echo "editor" >"$P/Tools/edit.exe"
echo "command" >"$P/Tools/Sub Dir/run.com"
echo "skipped by a pattern" >"$P/Tools/skipme.exe"
echo "notes, not checked" >"$P/readme.txt"
echo "PAGEFILE" >"$P/pagefile.sys"
echo "accessory" >"$P/Windows NT/Zubehör/paint.exe"
echo "secret" >"$P/Common Files/shared.exe"
head -c 3000000 /dev/urandom >"$P/Tools/big.exe"
chmod -R o+rX "$P"
chmod 700 "$P/Common Files"   # root's: the SMB user cannot list it (errno 13)
lab_smbd_start $S $SMB_PORT "$SMB_USER" "$SMB_PASSWORD"
/usr/bin/python3 "$HERE/smtp_sink.py" $SMTP_PORT "$TMP/mail.txt" >"$TMP/smtp.log" 2>&1 &
PIDS+=($!)
wait_for "the SMTP sink" 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 1)"

# --- the integrity certificate (16.4), password by reference ----------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=CIFS Demo" \
  -keyout $TMP/key.pem -out $TMP/cert.pem 2>/dev/null
printf '%s\n' "$P12_PASSWORD" >$TMP/p12.pass
openssl pkcs12 -export -inkey $TMP/key.pem -in $TMP/cert.pem -passout "file:$TMP/p12.pass" -out $TMP/cifs-demo.p12
rm $TMP/key.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Intruder" \
  -keyout $TMP/intruder-key.pem -out $TMP/intruder.pem 2>/dev/null

cat >$TMP/box.yaml <<YAML
version: 1
system:
  hostname: bulwark-test
  log_file: $TMP/bulwark.log
  smtp: {server: 127.0.0.1, port: $SMTP_PORT, from: box@example.com, starttls: false}
dataplane:
  hugepages: false
  memory_mb: 256
  main_lcore: 0
  worker_lcores: [1]
  file_prefix: bw-cifs-$TAG
interfaces:
  - {name: internal, role: internal, port: net_null_cifs${TAG}0, addresses: [192.168.1.1/24]}
  - {name: external, role: external, port: net_null_cifs${TAG}1, addresses: [10.1.0.1/16]}
ipsec:
  certificates:
    machine:
      - {name: CIFS Demo, pkcs12: $TMP/cifs-demo.p12, password: {file: $TMP/p12.pass}}
cifs:
  integrity_certificate: CIFS Demo
  notification: {email: it-security@example.com, subject_prefix: "[CIFS-IM]", send: deviations}
  shares:
    - {name: programs_to_check, server: 127.0.0.1, port: $SMB_PORT, share: Programs,
       username: $SMB_USER, password: {env: CIFS_PASSWORD}}
    - {name: CIFS-DB-Windows, server: 127.0.0.1, port: $SMB_PORT, share: CIFS_DB_Windows,
       username: $SMB_USER, password: {env: CIFS_PASSWORD}}
  pattern_sets:
    - name: all-executables
      patterns:
        - {pattern: '**\*.exe', include: true}
    - name: executables           # 16.14: unreadable and unwanted parts excluded before the includes
      patterns:
        - {pattern: 'pagefile.sys\**\*', include: false}
        - {pattern: '**\pagefile.sys', include: false}
        - {pattern: 'common files\**\*', include: false}
        - {pattern: '**\skip*.exe', include: false}
        - {pattern: '**\*.exe', include: true}
        - {pattern: '**\*.com', include: true}
  checks:
    - {name: access, share: programs_to_check, checksum_share: CIFS-DB-Windows, patterns: all-executables}
    - {name: programs, share: programs_to_check, checksum_share: CIFS-DB-Windows, patterns: executables}
    - {name: nightly, share: programs_to_check, checksum_share: CIFS-DB-Windows, patterns: executables,
       schedule: {every: 1m}}
YAML
"$BULWARK" check "$TMP/box.yaml" >/dev/null

"$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dp.sock" --no-exception-path >"$TMP/dataplane.log" 2>&1 &
PIDS+=($!)
wait_for "the dataplane socket" 20 test -S "$TMP/dp.sock"
CIFS_PASSWORD="$SMB_PASSWORD" "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" \
  --socket "$TMP/ctl.sock" --no-exception-path --state-dir "$TMP/state" "$TMP/box.yaml" >"$TMP/control.log" 2>&1 &
PIDS+=($!)
wait_for "the first generation" 30 grep -q "applied generation" "$TMP/control.log"
START=$(date +%s)
CIFS=("$BULWARK" cifs --socket "$TMP/ctl.sock")
STATE=$TMP/state/cifs/programs
SHARE_DB=$S/db/programs

# --- 16.11 and 16.13: access check ------------------------------------------------------------
rc=0; "${CIFS[@]}" access-check access >$TMP/access.out 2>&1 || rc=$?
check "an access check with an unreadable directory fails" test "$rc" -eq 1
check "its report lists the directory with errno 13 as in 16.13" \
  grep -q 'DIR_TRAVERSAL_ERR errno=13 syscall=readdir error="Permission denied" path="Common Files" type=d' \
    $TMP/state/cifs/access/integrity-check-log.txt
check "the report ends like the manual's" \
  sh -c "grep -q '^ACCESS_CHECK_FAILED$' $TMP/state/cifs/access/integrity-check-log.txt && tail -n1 $TMP/state/cifs/access/integrity-check-log.txt | grep -qx END_OF_LOG"
check "the access check builds no database" test ! -e $TMP/state/cifs/access/integrity.db
"${CIFS[@]}" access-check programs >$TMP/access2.out 2>&1
check "with the directory excluded (16.14) the access check succeeds" grep -q "ACCESS_CHECK_OK" $TMP/access2.out
check "a check before any initialisation says to initialise" \
  sh -c "! '${CIFS[0]}' cifs --socket $TMP/ctl.sock check programs >$TMP/nodb.out 2>&1 && grep -q 'bulwark cifs init' $TMP/nodb.out"

# --- 16.9: initialise, then check without changes ---------------------------------------------
check "init builds the integrity database" sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock init programs >$TMP/init.out 2>&1"
check "the database is stored on the checksum share, signed" \
  sh -c "test -s $SHARE_DB/integrity.db && test -s $SHARE_DB/integrity.db.sig"
check "the database lists exactly the included files" \
  sh -c "grep -c '^[0-9a-f]\{64\} ' $SHARE_DB/integrity.db | grep -qx 5 && grep -q 'Windows%20NT/Zubehör/paint.exe' $SHARE_DB/integrity.db && ! grep -q skipme $SHARE_DB/integrity.db"
check "the hashes are SHA-256 of the files" \
  grep -q "$(sha256sum "$P/Tools/big.exe" | cut -c1-64) 3000000 " $SHARE_DB/integrity.db
mails() { grep -c '=== END OF MESSAGE ===' $TMP/mail.txt 2>/dev/null || true; }
MAILS_BEFORE=$(mails)
check "a check without changes finds 0 differences" \
  sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock check programs >$TMP/check1.out 2>&1 && grep -q 'INTEGRITY_CHECK_OK' $TMP/check1.out && grep -q 'differences  *0' $TMP/check1.out"
check "no mail for a check without deviations" test "$(mails)" = "$MAILS_BEFORE"

# --- a modified, an added and a deleted executable; an excluded one changed too ---------------
echo "infected" >>"$P/Tools/edit.exe"
echo "dropper" >"$P/Tools/Sub Dir/new.exe"; chmod o+r "$P/Tools/Sub Dir/new.exe"
rm "$P/setup.exe"
echo "changed" >>"$P/Tools/skipme.exe"
echo "changed" >>"$P/readme.txt"
rc=0; "${CIFS[@]}" check programs >$TMP/check2.out 2>&1 || rc=$?
R=$STATE/integrity-check-log.txt
check "the check fails" test "$rc" -eq 1
check "exactly three differences" sh -c "grep -q 'differences  *3' $TMP/check2.out && grep -q 'differences=3' $R"
check "the modified file is reported" grep -q '^FILE_CHANGED .*path=Tools/edit.exe' $R
check "the added file is reported" grep -q '^FILE_ADDED .*path="Tools/Sub Dir/new.exe"' $R
check "the deleted file is reported" grep -q '^FILE_REMOVED .*path=setup.exe' $R
check "excluded files are not reported" sh -c "! grep -q -e skipme -e readme $R"
check "the JSON report carries the same events" \
  /usr/bin/python3 -c "import json; r=json.load(open('$STATE/integrity-check-log.json')); assert sorted(e['event'] for e in r['events']) == ['FILE_ADDED','FILE_CHANGED','FILE_REMOVED'] and r['differences'] == 3, r"
check "the report is also on the checksum share" cmp -s $R $SHARE_DB/integrity-check-log.txt
check "the report validates" "$BULWARK" cifs validate $R --config $TMP/box.yaml
check "the report validates with the PEM certificate" "$BULWARK" cifs validate $SHARE_DB/integrity-check-log.json --certificate $TMP/cert.pem
check "the deviation is mailed with the subject prefix" \
  wait_for "the mail" 10 grep -q 'Subject: \[CIFS-IM\] programs check: INTEGRITY_CHECK_FAILED (3 differences)' $TMP/mail.txt
check "the mail carries the report" grep -q 'FILE_CHANGED .*Tools/edit.exe' $TMP/mail.txt

# --- tampering --------------------------------------------------------------------------------
cp $R $TMP/report.orig
sed -i 's/differences=3/differences=0/' $R
check "a tampered report fails validation and says so" \
  sh -c "! '$BULWARK' cifs validate $R --config $TMP/box.yaml >$TMP/validate.out; grep -q 'NOT VALID: .*altered' $TMP/validate.out"
check "a report checked against another certificate fails" \
  sh -c "! '$BULWARK' cifs validate $TMP/report.orig --certificate $TMP/intruder.pem >/dev/null 2>&1"
cp $SHARE_DB/integrity.db $TMP/db.orig
sed -i 's/ Tools\/edit.exe$/ Tools\/edit2.exe/' $SHARE_DB/integrity.db
cp $SHARE_DB/integrity.db $TMP/db.tampered
rc=0; "${CIFS[@]}" check programs >$TMP/check3.out 2>&1 || rc=$?
check "a check with a tampered database on the share fails" test "$rc" -eq 1
check "the report says the database does not verify" \
  grep -q '^DATABASE_INVALID reason=.*does not verify.*altered' $R
check "the tampered database is not silently rebuilt" cmp -s $SHARE_DB/integrity.db $TMP/db.tampered
check "the box's own copy is untouched" cmp -s $STATE/integrity.db $TMP/db.orig

# --- re-initialise, cancel, erase, schedule ---------------------------------------------------
"${CIFS[@]}" init programs >/dev/null 2>&1
check "after a deliberate re-initialisation the check is clean again" \
  "${CIFS[@]}" check programs
"${CIFS[@]}" init programs --no-wait >/dev/null
"${CIFS[@]}" cancel programs >$TMP/cancel.out 2>&1
wait_for "the cancelled operation" 20 sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock status programs --json | grep -q '\"running\": false'"
check "cancel stops an operation and keeps the database" \
  sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock status programs | grep -q -e CANCELLED -e DATABASE_BUILT && test -s $SHARE_DB/integrity.db"
check "erase removes the database and the reports" \
  sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock erase programs >/dev/null && test ! -e $SHARE_DB/integrity.db && test ! -e $STATE/integrity.db && test ! -e $R"
left=$((START + 75 - $(date +%s)))
check "the scheduled check fires (every 1m) and builds the first database" \
  wait_for "the scheduled run" $((left > 5 ? left : 5)) test -s $S/db/nightly/integrity.db
check "status shows the scheduled run" \
  wait_for "the status" 20 sh -c "'$BULWARK' cifs --socket $TMP/ctl.sock status nightly | grep -q 'last operation *init: DATABASE_BUILT'"

# --- the last result survives a restart of bulwark-control ----------------------------------------
CONTROL_PID=$(pgrep -f -- "--socket $TMP/ctl.sock" | head -n1)
kill "$CONTROL_PID"
for _ in $(seq 50); do kill -0 "$CONTROL_PID" 2>/dev/null || break; sleep 0.1; done
CIFS_PASSWORD="$SMB_PASSWORD" "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" \
  --socket "$TMP/ctl2.sock" --no-exception-path --state-dir "$TMP/state" "$TMP/box.yaml" >"$TMP/control2.log" 2>&1 &
PIDS+=($!)
wait_for "the restarted control plane" 30 test -S "$TMP/ctl2.sock"
check "after a restart, status still shows the last result" \
  sh -c "'$BULWARK' cifs --socket $TMP/ctl2.sock status nightly | grep -q 'last operation *init: DATABASE_BUILT'"

# --- secrets ----------------------------------------------------------------------------------
check "no password appears in any log, report, database or mail" \
  sh -c "! grep -r -l -a -F -e '$SMB_PASSWORD' -e '$P12_PASSWORD' $TMP/*.log $TMP/*.out $TMP/state $S/db $TMP/mail.txt"
finish
