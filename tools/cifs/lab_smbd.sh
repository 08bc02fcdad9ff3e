# A private Samba server on loopback for the CIFS tests and the scan benchmark: no systemd, its
# own directories and port, one share user. Source this file, then:
#   lab_smbd_start DIR PORT USER PASSWORD   creates DIR/{programs,db}, user USER, starts smbd
#                                           (shares Programs read-only, CIFS_DB_Windows writable)
#   lab_smbd_stop                           stops smbd and removes USER
# The caller fills DIR/programs and makes it readable for USER (chmod -R o+rX).
LAB_SMBD_PID=
LAB_SMBD_USER=

lab_smbd_start() {
  local dir=$1 port=$2 user=$3 password=$4
  useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  LAB_SMBD_USER=$user
  mkdir -p "$dir"/{private,lock,state,cache,pid,ncalrpc,programs,db}
  chmod 700 "$dir/private"
  chown "$user" "$dir/db"
  cat >"$dir/smb.conf" <<CONF
[global]
server role = standalone server
smb ports = $port
interfaces = 127.0.0.1
bind interfaces only = yes
disable netbios = yes
private dir = $dir/private
lock directory = $dir/lock
state directory = $dir/state
cache directory = $dir/cache
pid directory = $dir/pid
ncalrpc dir = $dir/ncalrpc
passdb backend = tdbsam:$dir/private/passdb.tdb
map to guest = never
usershare path =
load printers = no
printcap name = /dev/null
disable spoolss = yes
rpc start on demand helpers = no
log level = 0
[Programs]
path = $dir/programs
read only = yes
[CIFS_DB_Windows]
path = $dir/db
read only = no
CONF
  printf '%s\n%s\n' "$password" "$password" | smbpasswd -c "$dir/smb.conf" -s -a "$user" >/dev/null
  # A direct child, never --no-process-group (smbd would signal the caller's process group).
  smbd -F --debug-stdout -d 0 -s "$dir/smb.conf" >"$dir/smbd.log" 2>&1 &
  LAB_SMBD_PID=$!
  local i
  for i in $(seq 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "smbd did not start; see $dir/smbd.log" >&2
  return 1
}

lab_smbd_stop() {
  if [ -n "$LAB_SMBD_PID" ]; then
    kill "$LAB_SMBD_PID" 2>/dev/null
    wait "$LAB_SMBD_PID" 2>/dev/null
    LAB_SMBD_PID=
  fi
  if [ -n "$LAB_SMBD_USER" ]; then
    userdel "$LAB_SMBD_USER" 2>/dev/null
    LAB_SMBD_USER=
  fi
  return 0
}
