{{/* Names, labels and the workload list every template shares. */}}

{{- define "agentbus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agentbus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agentbus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentbus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agentbus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "agentbus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agentbus
{{- end -}}

{{- define "agentbus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agentbus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The broker user of a service, as agentbus.topology.user_name spells it: "agent:style_reviewer" -> agentbus-agent-style-reviewer. */}}
{{- define "agentbus.userName" -}}
{{- printf "%s%s" .prefix (.service | replace ":" "-" | replace "_" "-") -}}
{{- end -}}

{{/* Every broker user, in topology.py's order: guardrail, orchestrator, client, then one per agent. */}}
{{- define "agentbus.users" -}}
{{- $prefix := "agentbus-" -}}
{{- $users := list -}}
{{- range $service := list "guardrail" "orchestrator" "client" -}}
{{- $users = append $users (include "agentbus.userName" (dict "prefix" $prefix "service" $service)) -}}
{{- end -}}
{{- range .Values.agents -}}
{{- $users = append $users (include "agentbus.userName" (dict "prefix" $prefix "service" (printf "agent:%s" .name))) -}}
{{- end -}}
{{- toYaml (dict "items" $users) -}}
{{- end -}}

{{/*
Workloads: the guardrail, the orchestrator and every agent, each merged over .Values.defaults, with
what the templates need: name (lower_snake_case), component (DNS-safe), module, user, image, queue,
llm (whether it calls the LLM endpoint).
*/}}
{{- define "agentbus.workloads" -}}
{{- $root := . -}}
{{- $prefix := "agentbus-" -}}
{{- $items := list -}}
{{- $seen := dict -}}
{{- range $name := list "guardrail" "orchestrator" -}}
{{- $values := index $root.Values $name -}}
{{- if $values.enabled -}}
{{- $w := include "agentbus.withDefaults" (dict "values" (omit $values "enabled") "defaults" $root.Values.defaults) | fromYaml -}}
{{- $_ := set $w "name" $name -}}
{{- $_ = set $w "module" (printf "services.%s" $name) -}}
{{- $_ = set $w "user" (include "agentbus.userName" (dict "prefix" $prefix "service" $name)) -}}
{{- $_ = set $w "queue" (ternary "agentbus.guardrail" "agentbus.orchestrator.p*" (eq $name "guardrail")) -}}
{{- $_ = set $w "llm" false -}}
{{- $items = append $items $w -}}
{{- end -}}
{{- end -}}
{{- range $agent := .Values.agents -}}
{{- if hasKey $seen $agent.name -}}
{{- fail (printf "agents: %q is listed twice; each agent needs one entry (one Deployment, one broker user)" $agent.name) -}}
{{- end -}}
{{- $_ := set $seen $agent.name true -}}
{{- $w := include "agentbus.withDefaults" (dict "values" (omit $agent "keda") "defaults" $root.Values.defaults) | fromYaml -}}
{{- $_ = set $w "module" (printf "services.agents.%s" $agent.name) -}}
{{- $_ = set $w "user" (include "agentbus.userName" (dict "prefix" $prefix "service" (printf "agent:%s" $agent.name))) -}}
{{- $_ = set $w "queue" (printf "agentbus.agent.%s" $agent.name) -}}
{{- $_ = set $w "llm" true -}}
{{- $_ = set $w "keda" (include "agentbus.withDefaults" (dict "values" (default dict $agent.keda) "defaults" $root.Values.keda) | fromYaml) -}}
{{- $items = append $items $w -}}
{{- end -}}
{{- range $w := $items -}}
{{- $_ := set $w "component" ($w.name | replace "_" "-") -}}
{{- end -}}
{{- toYaml (dict "items" $items) -}}
{{- end -}}

{{/*
`values` with every key of `defaults` it lacks (top level only: a workload's `resources` replaces the
default `resources` whole). Not sprig's merge, which treats false and 0 as missing.
*/}}
{{- define "agentbus.withDefaults" -}}
{{- $out := deepCopy .values -}}
{{- range $k, $v := .defaults -}}
{{- if not (hasKey $out $k) -}}
{{- $_ := set $out $k (deepCopy $v) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The agents' names, comma-separated (the orchestrator checks saga definitions against them). */}}
{{- define "agentbus.agentNames" -}}
{{- $names := list -}}
{{- range .Values.agents -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{- define "agentbus.image" -}}
{{- $ctx := .ctx -}}
{{- if .image -}}
{{- .image -}}
{{- else -}}
{{- $registry := $ctx.Values.image.registry | trimSuffix "/" -}}
{{- printf "%s%s%s:%s" (ternary "" (printf "%s/" $registry) (empty $registry)) $ctx.Values.image.prefix .service (default $ctx.Chart.AppVersion $ctx.Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* An env entry reading a broker user's password from wherever broker.credentials says. */}}
{{- define "agentbus.passwordEnv" -}}
{{- $ctx := .ctx -}}
{{- $c := $ctx.Values.broker.credentials -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      {{- if eq $c.mode "perUser" }}
      name: {{ printf $c.perUserSecretName .user | quote }}
      key: {{ $c.passwordKey | quote }}
      {{- else if eq $c.mode "create" }}
      name: {{ printf "%s-broker" (include "agentbus.fullname" $ctx) | quote }}
      key: {{ .user | quote }}
      {{- else }}
      name: {{ required "broker.credentials.existingSecret: name the Secret holding one password per broker user (or use mode perUser / create)" $c.existingSecret | quote }}
      key: {{ .user | quote }}
      {{- end }}
{{- end -}}

{{/* AGENTBUS_* settings every process shares (queue arguments depend on some of them). */}}
{{- define "agentbus.sharedEnv" -}}
- name: AGENTBUS_MANAGEMENT_URL
  value: {{ printf "%s://%s:%v" .Values.broker.managementScheme .Values.broker.host .Values.broker.managementPort | quote }}
- name: AGENTBUS_PARTITIONS
  value: {{ .Values.config.partitions | quote }}
- name: AGENTBUS_DELIVERY_LIMIT
  value: {{ .Values.config.deliveryLimit | quote }}
- name: AGENTBUS_RETRY_DELAY_MS
  value: {{ .Values.config.retryDelayMs | quote }}
- name: AGENTBUS_PREFETCH
  value: {{ .Values.config.prefetch | quote }}
- name: AGENTBUS_HEALTH_PORT
  value: {{ .Values.config.healthPort | quote }}
- name: AGENTBUS_SHUTDOWN_GRACE_S
  value: {{ .Values.config.shutdownGraceSeconds | quote }}
- name: AGENTBUS_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- range $k, $v := .Values.config.extraEnv }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* amqp://host:port/vhost, with the vhost percent-encoded ("/" is %2F). */}}
{{- define "agentbus.brokerAddress" -}}
{{- printf "%s:%v/%s" .Values.broker.host .Values.broker.port (.Values.broker.vhost | urlquery) -}}
{{- end -}}

{{/* Pod and container security settings shared by every pod (the image runs as uid 10001). */}}
{{- define "agentbus.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "agentbus.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
