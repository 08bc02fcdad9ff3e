/* See charon_shim.h. The kernel_ipsec_t implementation converts charon's objects to plain structs
 * and hands them to the C++ callbacks; SPIs are allocated here (random, unique, never 0 to 255). */
#include "control/ike/charon_shim.h"

#include <daemon.h>
#include <library.h>
#include <kernel/kernel_ipsec.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

#include <stdio.h>
#include <string.h>

static bw_backend_t backend;

typedef struct {
  kernel_ipsec_t public;
  mutex_t *mutex;
  hashtable_t *spis; /* allocated SPIs (host order), as keys */
  rng_t *rng;
} bulwark_ipsec_t;

static void host_text(host_t *host, char *out, uint16_t *port) {
  chunk_t a = host ? host->get_address(host) : chunk_empty;
  if (a.len == 4) {
    snprintf(out, BW_ADDR, "%u.%u.%u.%u", a.ptr[0], a.ptr[1], a.ptr[2], a.ptr[3]);
  } else if (a.len == 16) {
    size_t at = 0;
    for (int i = 0; i < 16 && at + 5 < BW_ADDR; i += 2) {
      at += (size_t)snprintf(out + at, BW_ADDR - at, "%s%x", i ? ":" : "", (a.ptr[i] << 8) | a.ptr[i + 1]);
    }
  } else {
    out[0] = '\0';
  }
  if (port) *port = host ? host->get_port(host) : 0;
}

static void ts_text(traffic_selector_t *ts, bw_ts_t *out) {
  host_t *net = NULL;
  uint8_t prefix = 0;
  memset(out, 0, sizeof(*out));
  if (ts->to_subnet(ts, &net, &prefix) || net) {
    host_text(net, out->net, NULL);
    out->prefix = prefix;
  }
  DESTROY_IF(net);
  out->protocol = ts->get_protocol(ts);
  out->from_port = ts->get_from_port(ts);
  out->to_port = ts->get_to_port(ts);
}

static int ts_list(linked_list_t *list, bw_ts_t *out) {
  enumerator_t *e;
  traffic_selector_t *ts;
  int n = 0;
  if (!list) return 0;
  e = list->create_enumerator(list);
  while (e->enumerate(e, &ts) && n < BW_MAX_TS) ts_text(ts, &out[n++]);
  e->destroy(e);
  return n;
}

static status_t result(int rc) { return rc == 0 ? SUCCESS : FAILED; }

METHOD(kernel_ipsec_t, get_features, kernel_feature_t, bulwark_ipsec_t *this) {
  return KERNEL_ESP_V3_TFC;
}

METHOD(kernel_ipsec_t, get_spi, status_t, bulwark_ipsec_t *this, host_t *src, host_t *dst, uint8_t protocol,
       uint32_t *spi) {
  uint32_t value;
  this->mutex->lock(this->mutex);
  if (!this->rng) {
    /* Created on first use: this backend is constructed before the plugins that provide RNGs. */
    this->rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
  }
  do {
    if (!this->rng || !this->rng->get_bytes(this->rng, sizeof(value), (uint8_t *)&value)) {
      this->mutex->unlock(this->mutex);
      return FAILED;
    }
    value |= 0xc0000000; /* never 0..255 (reserved), spread over the upper range */
  } while (this->spis->get(this->spis, (void *)(uintptr_t)value));
  this->spis->put(this->spis, (void *)(uintptr_t)value, (void *)(uintptr_t)value);
  this->mutex->unlock(this->mutex);
  *spi = htonl(value);
  return SUCCESS;
}

METHOD(kernel_ipsec_t, get_cpi, status_t, bulwark_ipsec_t *this, host_t *src, host_t *dst, uint16_t *cpi) {
  return NOT_SUPPORTED; /* no IPComp */
}

METHOD(kernel_ipsec_t, add_sa, status_t, bulwark_ipsec_t *this, kernel_ipsec_sa_id_t *id,
       kernel_ipsec_add_sa_t *data) {
  bw_sa_t sa;
  memset(&sa, 0, sizeof(sa));
  sa.spi = ntohl(id->spi);
  sa.protocol = id->proto;
  host_text(id->src, sa.src, &sa.src_port);
  host_text(id->dst, sa.dst, &sa.dst_port);
  sa.encap = data->encap;
  if (!sa.encap) sa.src_port = sa.dst_port = 0;
  sa.reqid = data->reqid;
  sa.tunnel = data->mode == MODE_TUNNEL;
  sa.enc_alg = data->enc_alg;
  const char *enc = enum_to_name(encryption_algorithm_names, data->enc_alg);
  const char *integrity = enum_to_name(integrity_algorithm_names, data->int_alg);
  snprintf(sa.enc_name, sizeof(sa.enc_name), "%s", enc ? enc : "?");
  sa.int_alg = data->int_alg;
  snprintf(sa.int_name, sizeof(sa.int_name), "%s", !data->int_alg ? "none" : integrity ? integrity : "?");
  if (data->enc_key.len > BW_MAX_KEY || data->int_key.len > BW_MAX_KEY) return FAILED;
  memcpy(sa.enc_key, data->enc_key.ptr, data->enc_key.len); /* charon wipes its chunks afterwards */
  sa.enc_key_len = data->enc_key.len;
  memcpy(sa.int_key, data->int_key.ptr, data->int_key.len);
  sa.int_key_len = data->int_key.len;
  sa.replay_window = data->replay_window;
  sa.esn = data->esn;
  sa.inbound = data->inbound;
  sa.initiator = data->initiator;
  sa.update = data->update;
  if (data->lifetime) {
    sa.soft_seconds = data->lifetime->time.rekey;
    sa.hard_seconds = data->lifetime->time.life;
    sa.soft_bytes = data->lifetime->bytes.rekey;
    sa.hard_bytes = data->lifetime->bytes.life;
    sa.soft_packets = data->lifetime->packets.rekey;
    sa.hard_packets = data->lifetime->packets.life;
  }
  sa.src_ts_count = ts_list(data->src_ts, sa.src_ts);
  sa.dst_ts_count = ts_list(data->dst_ts, sa.dst_ts);
  int rc = backend.sa_add(backend.context, &sa);
  memwipe(&sa, sizeof(sa));
  return result(rc);
}

METHOD(kernel_ipsec_t, update_sa, status_t, bulwark_ipsec_t *this, kernel_ipsec_sa_id_t *id,
       kernel_ipsec_update_sa_t *data) {
  char old_dst[BW_ADDR], new_src[BW_ADDR], new_dst[BW_ADDR];
  uint16_t src_port, dst_port;
  host_text(id->dst, old_dst, NULL);
  host_text(data->new_src, new_src, &src_port);
  host_text(data->new_dst, new_dst, &dst_port);
  return result(backend.sa_update(backend.context, ntohl(id->spi), id->proto, old_dst, new_src, new_dst,
                                  data->new_encap ? src_port : 0, data->new_encap ? dst_port : 0,
                                  data->new_encap));
}

METHOD(kernel_ipsec_t, query_sa, status_t, bulwark_ipsec_t *this, kernel_ipsec_sa_id_t *id,
       kernel_ipsec_query_sa_t *data, uint64_t *bytes, uint64_t *packets, time_t *time) {
  char dst[BW_ADDR];
  uint64_t b = 0, p = 0;
  time_t t = 0;
  host_text(id->dst, dst, NULL);
  if (backend.sa_query(backend.context, ntohl(id->spi), id->proto, dst, &b, &p, &t) != 0) return NOT_FOUND;
  if (bytes) *bytes = b;
  if (packets) *packets = p;
  if (time) *time = t;
  return SUCCESS;
}

METHOD(kernel_ipsec_t, del_sa, status_t, bulwark_ipsec_t *this, kernel_ipsec_sa_id_t *id,
       kernel_ipsec_del_sa_t *data) {
  char dst[BW_ADDR];
  uint32_t spi = ntohl(id->spi);
  host_text(id->dst, dst, NULL);
  this->mutex->lock(this->mutex);
  this->spis->remove(this->spis, (void *)(uintptr_t)spi);
  this->mutex->unlock(this->mutex);
  return result(backend.sa_delete(backend.context, spi, id->proto, dst));
}

METHOD(kernel_ipsec_t, flush_sas, status_t, bulwark_ipsec_t *this) {
  backend.flush(backend.context, 1, 0);
  return SUCCESS;
}

static void policy_text(kernel_ipsec_policy_id_t *id, kernel_ipsec_manage_policy_t *data, bw_policy_t *out) {
  memset(out, 0, sizeof(*out));
  out->direction = id->dir == POLICY_IN ? 0 : id->dir == POLICY_OUT ? 1 : 2;
  ts_text(id->src_ts, &out->src_ts);
  ts_text(id->dst_ts, &out->dst_ts);
  if (data) {
    host_text(data->src, out->src, NULL);
    host_text(data->dst, out->dst, NULL);
    out->priority = (int)data->prio;
    if (data->sa) {
      out->reqid = data->sa->reqid;
      out->esp_spi = data->sa->esp.use ? ntohl(data->sa->esp.spi) : 0;
      out->tunnel = data->sa->mode == MODE_TUNNEL;
    }
  }
}

METHOD(kernel_ipsec_t, add_policy, status_t, bulwark_ipsec_t *this, kernel_ipsec_policy_id_t *id,
       kernel_ipsec_manage_policy_t *data) {
  bw_policy_t p;
  policy_text(id, data, &p);
  return result(backend.policy_add(backend.context, &p));
}

METHOD(kernel_ipsec_t, query_policy, status_t, bulwark_ipsec_t *this, kernel_ipsec_policy_id_t *id,
       kernel_ipsec_query_policy_t *data, time_t *use_time) {
  bw_policy_t p;
  time_t t = 0;
  policy_text(id, NULL, &p);
  if (backend.policy_query(backend.context, &p, &t) != 0) return NOT_FOUND;
  if (use_time) *use_time = t;
  return SUCCESS;
}

METHOD(kernel_ipsec_t, del_policy, status_t, bulwark_ipsec_t *this, kernel_ipsec_policy_id_t *id,
       kernel_ipsec_manage_policy_t *data) {
  bw_policy_t p;
  policy_text(id, data, &p);
  return result(backend.policy_delete(backend.context, &p));
}

METHOD(kernel_ipsec_t, flush_policies, status_t, bulwark_ipsec_t *this) {
  backend.flush(backend.context, 0, 1);
  return SUCCESS;
}

/* IKE sockets need no bypass policy: the dataplane never applies IPsec to the box's own IKE. */
METHOD(kernel_ipsec_t, bypass_socket, bool, bulwark_ipsec_t *this, int fd, int family) { return TRUE; }

/* ESP in UDP is decapsulated by the dataplane, not by the kernel socket. */
METHOD(kernel_ipsec_t, enable_udp_decap, bool, bulwark_ipsec_t *this, int fd, int family, uint16_t port) {
  return TRUE;
}

METHOD(kernel_ipsec_t, destroy, void, bulwark_ipsec_t *this) {
  this->spis->destroy(this->spis);
  DESTROY_IF(this->rng);
  this->mutex->destroy(this->mutex);
  free(this);
}

static kernel_ipsec_t *bulwark_ipsec_create(void) {
  bulwark_ipsec_t *this;
  INIT(this,
       .public = {
           .get_features = _get_features,
           .get_spi = _get_spi,
           .get_cpi = _get_cpi,
           .add_sa = _add_sa,
           .update_sa = _update_sa,
           .query_sa = _query_sa,
           .del_sa = _del_sa,
           .flush_sas = _flush_sas,
           .add_policy = _add_policy,
           .query_policy = _query_policy,
           .del_policy = _del_policy,
           .flush_policies = _flush_policies,
           .bypass_socket = _bypass_socket,
           .enable_udp_decap = _enable_udp_decap,
           .destroy = _destroy,
       },
       .mutex = mutex_create(MUTEX_TYPE_DEFAULT),
       .spis = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr, 64),
  );
  return &this->public;
}

/* --- the bus listener: connection events and failures ------------------------------------- */

typedef struct {
  listener_t public;
} bulwark_listener_t;

/* The connection an event belongs to: its peer config's name, or — before one is chosen (a
 * responder in IKE_SA_INIT) — "@" and the peer's address. */
static void report_child(ike_sa_t *ike_sa, int kind, const char *detail, uint32_t reqid);

static void report(ike_sa_t *ike_sa, int kind, const char *detail) { report_child(ike_sa, kind, detail, 0); }

static void report_child(ike_sa_t *ike_sa, int kind, const char *detail, uint32_t reqid) {
  peer_cfg_t *peer = ike_sa ? ike_sa->get_peer_cfg(ike_sa) : NULL;
  char name[BW_ADDR + 1] = "";
  if (peer) {
    snprintf(name, sizeof(name), "%s", peer->get_name(peer));
  } else if (ike_sa && ike_sa->get_other_host(ike_sa)) {
    name[0] = '@';
    host_text(ike_sa->get_other_host(ike_sa), name + 1, NULL);
  }
  if (backend.event) backend.event(backend.context, name, kind, detail ? detail : "", reqid);
}

METHOD(listener_t, on_alert, bool, bulwark_listener_t *this, ike_sa_t *ike_sa, alert_t alert, va_list args) {
  switch (alert) {
    case ALERT_RETRANSMIT_SEND_TIMEOUT:
      report(ike_sa, BW_PEER_UNREACHABLE, "no answer to our IKE requests");
      break;
    case ALERT_PEER_ADDR_FAILED:
      report(ike_sa, BW_PEER_UNREACHABLE, "the peer's address could not be resolved");
      break;
    case ALERT_PEER_INIT_UNREACHABLE:
      report(ike_sa, BW_PEER_UNREACHABLE, "the peer did not answer the first message");
      break;
    case ALERT_PROPOSAL_MISMATCH_IKE:
      report(ike_sa, BW_IKE_PROPOSAL_MISMATCH, "none of the peer's IKE proposals is acceptable");
      break;
    case ALERT_PROPOSAL_MISMATCH_CHILD:
      report(ike_sa, BW_ESP_PROPOSAL_MISMATCH, "none of the peer's ESP proposals is acceptable");
      break;
    case ALERT_TS_MISMATCH:
      report(ike_sa, BW_TS_MISMATCH, "the peer's networks match no tunnel of this connection");
      break;
    case ALERT_PEER_AUTH_FAILED:
      report(ike_sa, BW_PEER_AUTH_FAILED, "the peer's authentication failed");
      break;
    case ALERT_LOCAL_AUTH_FAILED:
      report(ike_sa, BW_LOCAL_AUTH_FAILED, "our authentication failed");
      break;
    case ALERT_CERT_EXPIRED:
      report(ike_sa, BW_CERTIFICATE_PROBLEM, "a certificate has expired or is not yet valid");
      break;
    case ALERT_CERT_REVOKED:
      report(ike_sa, BW_CERTIFICATE_PROBLEM, "a certificate is revoked");
      break;
    case ALERT_CERT_NO_ISSUER:
    case ALERT_CERT_UNTRUSTED_ROOT:
      report(ike_sa, BW_CERTIFICATE_PROBLEM, "the peer's certificate was not issued by a trusted CA");
      break;
    case ALERT_CERT_VALIDATION_FAILED:
    case ALERT_CERT_EXCEEDED_PATH_LEN:
    case ALERT_CERT_POLICY_VIOLATION:
      report(ike_sa, BW_CERTIFICATE_PROBLEM, "the peer's certificate chain does not validate");
      break;
    default:
      break;
  }
  return TRUE;
}

/* Error notifies in either direction: received, the peer refused ours; sent, we refused the
 * peer's (charon raises no alert for some of these, e.g. in IKEv1 quick mode). */
METHOD(listener_t, on_message, bool, bulwark_listener_t *this, ike_sa_t *ike_sa, message_t *message, bool incoming,
       bool plain) {
  if (!plain) return TRUE;
  exchange_type_t exchange = message->get_exchange_type(message);
  bool child = exchange != IKE_SA_INIT && exchange != ID_PROT && exchange != AGGRESSIVE;
  if (message->get_notify(message, NO_PROPOSAL_CHOSEN)) {
    if (incoming) {
      report(ike_sa, child ? BW_PEER_REJECTED_ESP : BW_PEER_REJECTED_IKE, "the peer answered NO_PROPOSAL_CHOSEN");
    } else {
      report(ike_sa, child ? BW_ESP_PROPOSAL_MISMATCH : BW_IKE_PROPOSAL_MISMATCH,
             child ? "none of the peer's ESP proposals is acceptable" : "none of the peer's IKE proposals is acceptable");
    }
  }
  if (message->get_notify(message, TS_UNACCEPTABLE) || message->get_notify(message, INVALID_ID_INFORMATION)) {
    report(ike_sa, incoming ? BW_PEER_REJECTED_TS : BW_TS_MISMATCH,
           incoming ? "the peer answered TS_UNACCEPTABLE" : "the peer's networks match no tunnel of this connection");
  }
  if (message->get_notify(message, AUTHENTICATION_FAILED)) {
    report(ike_sa, incoming ? BW_PEER_REJECTED_AUTH : BW_PEER_AUTH_FAILED,
           incoming ? "the peer answered AUTHENTICATION_FAILED" : "the peer's authentication failed");
  }
  return TRUE;
}

METHOD(listener_t, on_ike_updown, bool, bulwark_listener_t *this, ike_sa_t *ike_sa, bool up) {
  report(ike_sa, up ? BW_IKE_UP : BW_IKE_DOWN, "");
  return TRUE;
}

METHOD(listener_t, on_child_updown, bool, bulwark_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
       bool up) {
  report_child(ike_sa, up ? BW_CHILD_UP : BW_CHILD_DOWN, child_sa->get_name(child_sa), child_sa->get_reqid(child_sa));
  return TRUE;
}

static bulwark_listener_t listener;

int bw_charon_start(const char *conf, const char *plugins, const bw_backend_t *callbacks, char *error,
                    size_t error_size) {
  static plugin_feature_t features[] = {
      PLUGIN_CALLBACK(kernel_ipsec_register, bulwark_ipsec_create),
      PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
  };
  backend = *callbacks;
  if (!library_init((char *)conf, "charon")) {
    snprintf(error, error_size, "libstrongswan initialisation failed (settings %s)", conf);
    library_deinit();
    return -1;
  }
  if (!libcharon_init()) {
    snprintf(error, error_size, "libcharon initialisation failed");
    libcharon_deinit();
    library_deinit();
    return -1;
  }
  charon->load_loggers(charon);
  lib->plugins->add_static_features(lib->plugins, "bulwark-kernel-ipsec", features, countof(features), TRUE, NULL,
                                    NULL);
  if (!charon->initialize(charon, (char *)plugins)) {
    snprintf(error, error_size, "charon initialisation failed: plugins %s", plugins);
    libcharon_deinit();
    library_deinit();
    return -1;
  }
  listener = (bulwark_listener_t){
      .public = {
          .alert = _on_alert,
          .message = _on_message,
          .ike_updown = _on_ike_updown,
          .child_updown = _on_child_updown,
      },
  };
  charon->bus->add_listener(charon->bus, &listener.public);
  charon->start(charon);
  return 0;
}

void bw_charon_expire(uint8_t protocol, uint32_t spi, const char *dst, int hard) {
  host_t *host = host_create_from_string((char *)dst, 0);
  if (!host) return;
  charon->kernel->expire(charon->kernel, protocol, htonl(spi), host, hard);
  host->destroy(host);
}

void bw_charon_stop(void) {
  charon->bus->remove_listener(charon->bus, &listener.public);
  libcharon_deinit();
  library_deinit();
}
