/* The C boundary between libcharon (strongSwan's IKE daemon library, whose headers are C only)
 * and bulwark-iked's C++ side. charon_shim.c embeds libcharon and registers Bulwark's own
 * kernel_ipsec backend: every SA and policy charon negotiates arrives here as a plain struct,
 * keys included, and the C++ side keeps the databases and tells the dataplane.
 *
 * Threads: charon calls the callbacks from its own worker threads, concurrently. */
#ifndef BULWARK_CHARON_SHIM_H
#define BULWARK_CHARON_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { BW_MAX_KEY = 64, BW_MAX_TS = 8, BW_ADDR = 46 };

typedef struct {
  char net[BW_ADDR]; /* address text */
  uint8_t prefix;
  uint8_t protocol; /* 0 = any */
  uint16_t from_port, to_port;
} bw_ts_t;

typedef struct {
  uint32_t spi; /* host byte order */
  uint8_t protocol; /* 50 ESP, 51 AH */
  char src[BW_ADDR], dst[BW_ADDR];
  uint16_t src_port, dst_port; /* UDP encapsulation ports when encap */
  int encap;
  uint32_t reqid;
  int tunnel; /* 1 tunnel, 0 transport */
  uint16_t enc_alg; /* IKEv2 transform IDs (encryption_algorithm_t / integrity_algorithm_t) */
  char enc_name[32];
  uint8_t enc_key[BW_MAX_KEY];
  size_t enc_key_len;
  uint16_t int_alg;
  char int_name[32];
  uint8_t int_key[BW_MAX_KEY];
  size_t int_key_len;
  uint32_t replay_window;
  int esn;
  int inbound;
  int initiator;
  int update; /* an inbound SA whose SPI was allocated by get_spi */
  uint64_t soft_seconds, hard_seconds; /* 0 = none; soft already jittered by charon */
  uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets;
  bw_ts_t src_ts[BW_MAX_TS], dst_ts[BW_MAX_TS];
  int src_ts_count, dst_ts_count;
} bw_sa_t;

typedef struct {
  int direction; /* 0 in, 1 out, 2 forward */
  bw_ts_t src_ts, dst_ts;
  char src[BW_ADDR], dst[BW_ADDR]; /* tunnel end points */
  uint32_t reqid;
  uint32_t esp_spi; /* 0 unless the SA is known */
  int tunnel;
  int priority;
} bw_policy_t;

/* What charon's bus reports about a connection, for status and diagnostics (manual 15). */
enum bw_event_kind {
  BW_IKE_UP = 1,
  BW_IKE_DOWN,
  BW_CHILD_UP,
  BW_CHILD_DOWN,
  BW_PEER_UNREACHABLE,     /* retransmits timed out, or the peer's address did not resolve */
  BW_IKE_PROPOSAL_MISMATCH,
  BW_ESP_PROPOSAL_MISMATCH, /* also the other end of a PFS mismatch */
  BW_TS_MISMATCH,
  BW_PEER_AUTH_FAILED,     /* we could not authenticate the peer */
  BW_LOCAL_AUTH_FAILED,    /* the peer did not accept our authentication */
  BW_CERTIFICATE_PROBLEM,
  BW_PEER_REJECTED_ESP,    /* notify NO_PROPOSAL_CHOSEN for the CHILD_SA */
  BW_PEER_REJECTED_IKE,    /* notify NO_PROPOSAL_CHOSEN in IKE_SA_INIT / main mode */
  BW_PEER_REJECTED_TS,     /* notify TS_UNACCEPTABLE */
  BW_PEER_REJECTED_AUTH,   /* notify AUTHENTICATION_FAILED */
};

typedef struct {
  void *context;
  /* An event of the connection (peer config) `connection`; `detail` is a short text; `reqid` is
   * the CHILD SA's for BW_CHILD_UP/DOWN, else 0. */
  void (*event)(void *context, const char *connection, int kind, const char *detail, uint32_t reqid);
  int (*sa_add)(void *context, const bw_sa_t *sa);
  int (*sa_update)(void *context, uint32_t spi, uint8_t protocol, const char *old_dst, const char *new_src,
                   const char *new_dst, uint16_t new_src_port, uint16_t new_dst_port, int new_encap);
  int (*sa_query)(void *context, uint32_t spi, uint8_t protocol, const char *dst, uint64_t *bytes,
                  uint64_t *packets, time_t *last_use);
  int (*sa_delete)(void *context, uint32_t spi, uint8_t protocol, const char *dst);
  int (*policy_add)(void *context, const bw_policy_t *policy);
  int (*policy_delete)(void *context, const bw_policy_t *policy);
  int (*policy_query)(void *context, const bw_policy_t *policy, time_t *use_time);
  void (*flush)(void *context, int sas, int policies);
} bw_backend_t;

/* Starts libcharon with the settings file `conf` (strongswan.conf syntax) under the namespace
 * "charon", our backend registered before the plugins of `plugins` load. 0, or -1 with `error`. */
int bw_charon_start(const char *conf, const char *plugins, const bw_backend_t *backend, char *error,
                    size_t error_size);
/* Tells charon an SA reached its soft (rekey) or hard (delete) lifetime. */
void bw_charon_expire(uint8_t protocol, uint32_t spi, const char *dst, int hard);
void bw_charon_stop(void);

#ifdef __cplusplus
}
#endif
#endif
