// moved below the CLI so the machines' process driver shares it (machines/ must not import cli/)
export * from '../../machines/net/latency-proxy.js';
