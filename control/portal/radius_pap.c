// RADIUS PAP with FreeRADIUS's packet library (radius_pap.h).
//
// The library keeps global state (its dictionary, its random pool): it is set up once, and every
// call into it runs under one mutex. The wait for the answer does not hold the mutex, so logins
// against a slow server do not hold up others.
#include "radius_pap.h"

#include <freeradius/ident.h>
#include <freeradius/libradius.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DICTIONARY_DIR "/usr/share/freeradius"  // freeradius-common
#define DICTIONARY_FILE "dictionary"

static pthread_mutex_t lib_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ready = 0;
static char lib_error[256];

static void lib_init(void) {
  if (fr_check_lib_magic(RADIUSD_MAGIC_NUMBER) < 0 || dict_init(DICTIONARY_DIR, DICTIONARY_FILE) < 0) {
    snprintf(lib_error, sizeof lib_error, "the RADIUS library cannot start: %s", fr_strerror());
    return;
  }
  lib_ready = 1;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int add_string(RADIUS_PACKET* p, unsigned attr, const char* value) {
  VALUE_PAIR* vp = fr_pair_afrom_num(p, attr, 0);
  if (!vp) return 0;
  fr_pair_value_bstrncpy(vp, value, strlen(value));
  fr_pair_add(&p->vps, vp);
  return 1;
}

// True when the answer carries a Message-Authenticator (rad_verify has checked any it has).
static int has_message_authenticator(const RADIUS_PACKET* reply) {
  size_t at = 20;
  while (at + 2 <= reply->data_len) {
    uint8_t type = reply->data[at], length = reply->data[at + 1];
    if (length < 2) return 0;
    if (type == PW_MESSAGE_AUTHENTICATOR) return 1;
    at += length;
  }
  return 0;
}

enum bw_radius_answer bw_radius_pap(uint32_t server, uint16_t port, const char* secret, unsigned timeout_ms,
                                    int require_ma, const char* user, const char* password, uint32_t nas_ip,
                                    char* detail, size_t detail_size) {
  pthread_once(&lib_once, lib_init);
  if (!lib_ready) {
    snprintf(detail, detail_size, "%s", lib_error);
    return BW_RADIUS_NO_ANSWER;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(server);
  if (fd < 0 || connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    snprintf(detail, detail_size, "cannot reach it: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return BW_RADIUS_NO_ANSWER;
  }

  enum bw_radius_answer answer = BW_RADIUS_NO_ANSWER;
  snprintf(detail, detail_size, "timed out");
  pthread_mutex_lock(&lib_mutex);
  TALLOC_CTX* ctx = talloc_init("bulwark-radius");
  RADIUS_PACKET* request = ctx ? rad_alloc(ctx, true) : NULL;
  int built = 0;
  if (request) {
    static const uint8_t zero[16];
    request->code = PW_CODE_ACCESS_REQUEST;
    request->id = (int)(fr_rand() & 0xff);
    request->sockfd = fd;
    request->src_ipaddr.af = AF_INET;
    request->dst_ipaddr.af = AF_INET;
    request->dst_ipaddr.prefix = 32;
    request->dst_ipaddr.ipaddr.ip4addr.s_addr = htonl(server);
    request->dst_port = port;
    VALUE_PAIR* nas = fr_pair_afrom_num(request, PW_NAS_IP_ADDRESS, 0);
    VALUE_PAIR* ma = fr_pair_afrom_num(request, PW_MESSAGE_AUTHENTICATOR, 0);
    if (nas && ma && add_string(request, PW_USER_NAME, user) && add_string(request, PW_USER_PASSWORD, password)) {
      nas->vp_ipaddr = htonl(nas_ip);
      fr_pair_add(&request->vps, nas);
      fr_pair_value_memcpy(ma, zero, sizeof zero);  // rad_send computes it
      fr_pair_add(&request->vps, ma);
      built = rad_send(request, NULL, secret) >= 0;  // the bytes sent, or -1
    }
    if (!built) snprintf(detail, detail_size, "the request could not be built: %s", fr_strerror());
  }
  pthread_mutex_unlock(&lib_mutex);

  const long deadline = now_ms() + (long)timeout_ms;
  while (built) {
    long left = deadline - now_ms();
    if (left <= 0) break;
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready = poll(&pfd, 1, (int)left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    pthread_mutex_lock(&lib_mutex);
    RADIUS_PACKET* reply = rad_recv(ctx, fd, 0);
    int done = 0;
    if (!reply) {
      if (errno == ECONNREFUSED) {
        snprintf(detail, detail_size, "could not be reached (port unreachable)");
        done = 1;
      } else {
        snprintf(detail, detail_size, "sent an answer that is not RADIUS: %s", fr_strerror());
      }
    } else if (reply->id != request->id) {
      snprintf(detail, detail_size, "sent an answer to another request");
    } else if (rad_verify(reply, request, secret) != 0) {
      snprintf(detail, detail_size, "sent an answer that does not verify (shared secret?)");
    } else if (require_ma && !has_message_authenticator(reply)) {
      snprintf(detail, detail_size, "answered without Message-Authenticator (refused: BlastRADIUS)");
    } else if (reply->code == PW_CODE_ACCESS_ACCEPT) {
      answer = BW_RADIUS_ACCEPT;
      snprintf(detail, detail_size, "accepted");
      done = 1;
    } else if (reply->code == PW_CODE_ACCESS_REJECT) {
      answer = BW_RADIUS_REJECT;
      snprintf(detail, detail_size, "rejected");
      done = 1;
    } else if (reply->code == PW_CODE_ACCESS_CHALLENGE) {
      answer = BW_RADIUS_REJECT;
      snprintf(detail, detail_size, "sent an Access-Challenge (not supported)");
      done = 1;
    } else {
      snprintf(detail, detail_size, "sent an answer of code %u", reply->code);
    }
    if (reply) rad_free(&reply);
    pthread_mutex_unlock(&lib_mutex);
    if (done) break;
  }
  pthread_mutex_lock(&lib_mutex);
  talloc_free(ctx);
  pthread_mutex_unlock(&lib_mutex);
  close(fd);
  return answer;
}
