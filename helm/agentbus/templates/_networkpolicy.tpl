{{/* NetworkPolicy peers for the broker: its pods (optionally in another namespace) or CIDRs. */}}
{{- define "agentbus.brokerPeers" -}}
{{- $b := .Values.networkPolicy.broker -}}
{{- if $b.cidrs }}
{{- range $b.cidrs }}
- ipBlock:
    cidr: {{ . }}
{{- end }}
{{- else }}
- podSelector:
    {{- toYaml $b.podSelector | nindent 4 }}
  {{- with $b.namespaceSelector }}
  namespaceSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "agentbus.dnsEgress" -}}
- to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 8 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}
