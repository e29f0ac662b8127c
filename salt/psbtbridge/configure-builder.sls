{#
The named disposable builder, which has the network: download every file the lock pins
(hash-checked) and copy the wheelhouse to the cold template and the hot qube with
qubes.Filecopy (allowed by 70-psbtbridge-builder.policy). The receivers check every hash
again; nothing here is trusted.
#}
{%- from "psbtbridge/map.jinja" import template, hot, user -%}

{% if grains['nodename'] != 'dom0' -%}

{%- set work = '/home/' ~ user ~ '/psbtbridge-builder' %}

"{{ slsdotpath }}-lock":
  file.recurse:
    - name: {{ work }}/lock
    - source: salt://{{ slsdotpath }}/files/lock
    - clean: True
    - user: {{ user }}

"{{ slsdotpath }}-wheelhouse":
  cmd.script:
    - source: salt://{{ slsdotpath }}/files/bin/build-wheelhouse
    - args: {{ work }}/wheelhouse
    - env:
      - PSBTBRIDGE_LOCK_DIR: {{ work }}/lock
    - runas: {{ user }}
    - require:
      - file: "{{ slsdotpath }}-lock"

{% for target in [template, hot] -%}
"{{ slsdotpath }}-copy-to-{{ target }}":
  cmd.run:
    - name: >-
        /usr/lib/qubes/qrexec-client-vm {{ target }} qubes.Filecopy
        /usr/lib/qubes/qfile-agent {{ work }}/wheelhouse
    - runas: {{ user }}
    - require:
      - cmd: "{{ slsdotpath }}-wheelhouse"
{% endfor %}

{% endif -%}
