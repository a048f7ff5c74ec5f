/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Redis (RESP2/RESP3) label sets, shared by the classifier
 * (bpf/l7_redis.bpf.h) and the agent (agent/model/request_protocols.cc):
 * one list each, so a code means the same on both sides. Plain C, no
 * kernel types.
 *
 * Commands are matched on their first word only (CONFIG GET is "config"),
 * case-insensitively, and exported lowercase as Redis's own INFO
 * commandstats names them. Anything else is "other": the label set stays
 * bounded whatever a client sends. Both lists are in alphabetical order
 * (the classifier searches them by halves; a test checks the order).
 */
#ifndef REDLINE_BPF_L7_REDIS_H
#define REDLINE_BPF_L7_REDIS_H

#define RL_REDIS_COMMANDS(X)                                                                              \
	X(append)                                                                                         \
	X(auth) X(bitcount) X(bitop) X(bitpos) X(blmove) X(blpop) X(brpop) X(                             \
	    brpoplpush) X(bzpopmax) X(bzpopmin) X(client) X(cluster) X(command)                           \
	    X(config) X(copy) X(dbsize) X(decr) X(decrby) X(del) X(discard) X(                            \
		echo) X(eval) X(evalsha) X(exec) X(exists) X(expire) X(expireat)                          \
		X(flushall) X(flushdb) X(geoadd) X(geodist) X(geopos) X(                                  \
		    georadius) X(geosearch) X(get) X(getbit) X(getdel) X(getex)                           \
		    X(getrange) X(getset) X(hdel) X(hello) X(hexists) X(hget) X(                          \
			hgetall) X(hincrby) X(hincrbyfloat) X(hkeys) X(hlen)                              \
			X(hmget) X(hmset) X(hscan) X(hset) X(hsetnx) X(hvals) X(                          \
			    incr) X(incrby) X(incrbyfloat) X(info) X(keys)                                \
			    X(lindex) X(linsert) X(llen) X(lmove) X(lpop) X(                              \
				lpos) X(lpush) X(lpushx) X(lrange) X(lrem) X(lset)                        \
				X(ltrim) X(memory) X(mget) X(mset) X(msetnx) X(multi) X(object) X(        \
				    persist) X(pexpire) X(pfadd) X(pfcount) X(pfmerge) X(ping) X(psetex)  \
				    X(psubscribe) X(pttl) X(publish) X(punsubscribe) X(quit) X(           \
					randomkey) X(rename) X(rpop) X(rpoplpush) X(rpush)                \
					X(rpushx) X(sadd) X(scan) X(scard) X(script) X(                   \
					    sdiff) X(select) X(set) X(setbit) X(setex)                    \
					    X(setnx) X(setrange) X(sinter) X(                             \
						sismember) X(smembers) X(smismember)                      \
						X(smove) X(sort) X(spop) X(                               \
						    srandmember) X(srem) X(sscan) X(strlen)               \
						    X(subscribe) X(sunion) X(time) X(                     \
							ttl) X(type) X(unlink) X(unsubscribe)             \
							X(unwatch) X(wait) X(                             \
							    watch) X(xack) X(xadd) X(xautoclaim)          \
							    X(xclaim) X(xdel) X(                          \
								xgroup) X(xlen) X(xpending)               \
								X(xrange) X(xread) X(xreadgroup) X(       \
								    xrevrange) X(xtrim) X(zadd)           \
								    X(zcard) X(zcount) X(                 \
									zincrby) X(zmscore)               \
									X(zpopmax) X(zpopmin) X(          \
									    zrange) X(zrangebylex)        \
									    X(zrangebyscore) X(           \
										zrank) X(zrem)            \
										X(zremrangebyrank) X(     \
										    zremrangebyscore)     \
										    X(zrevrange) X(       \
											zrevrangebyscore) \
											X(zrevrank) X(    \
											    zscan)        \
											    X(zscore)

/* Operation codes: 0 (start not seen) and "other" first, then the list. */
enum rl_redis_command {
	RL_REDIS_CMD_UNKNOWN = 0,
	RL_REDIS_CMD_OTHER = 1,
#define RL_REDIS_CMD_ENUM(name) RL_REDIS_CMD_##name,
	RL_REDIS_COMMANDS(RL_REDIS_CMD_ENUM)
#undef RL_REDIS_CMD_ENUM
	    RL_REDIS_CMD_COUNT,
};

/* Error replies by their first word ("-WRONGTYPE Operation against..."),
 * the prefix Redis's INFO errorstats counts them by. */
#define RL_REDIS_ERRORS(X)                                                     \
	X(ASK)                                                                 \
	X(BUSY) X(BUSYGROUP) X(CLUSTERDOWN) X(CROSSSLOT) X(ERR) X(EXECABORT)   \
	    X(LOADING) X(MASTERDOWN) X(MISCONF) X(MOVED) X(NOAUTH) X(NOGROUP)  \
		X(NOPERM) X(NOREPLICAS) X(NOSCRIPT) X(NOTBUSY) X(OOM)          \
		    X(READONLY) X(TRYAGAIN) X(UNKILLABLE) X(WRONGPASS)         \
			X(WRONGTYPE)

/* Outcome codes: ok is any reply that is not an error (nil included);
 * "error" an error whose prefix is not in the list. */
enum rl_redis_outcome {
	RL_REDIS_OUT_UNKNOWN = 0,
	RL_REDIS_OUT_OK = 1,
	RL_REDIS_OUT_ERROR = 2,
#define RL_REDIS_OUT_ENUM(name) RL_REDIS_OUT_##name,
	RL_REDIS_ERRORS(RL_REDIS_OUT_ENUM)
#undef RL_REDIS_OUT_ENUM
	    RL_REDIS_OUT_COUNT,
};

#endif /* REDLINE_BPF_L7_REDIS_H */
