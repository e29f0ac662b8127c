{#
dom0: the cold template (a clone of a Debian minimal template), the offline cold qube on it,
the hot qube, the named disposable builder that has the network, their tags, and the qrexec
policies. Qubes that exist (e.g. from qusal's `electrum` formula) are reused; only what
psbtbridge needs is set on them, above all the cold qube's empty netvm.
#}
{%- from "psbtbridge/map.jinja" import cold, hot, template, base_template, hot_template, builder -%}

{% if grains['nodename'] == 'dom0' -%}

"{{ slsdotpath }}-template":
  qvm.clone:
    - name: {{ template }}
    - source: {{ base_template }}

"{{ slsdotpath }}-cold":
  qvm.vm:
    - name: {{ cold }}
    - require:
      - qvm: "{{ slsdotpath }}-template"
    - present:
      - template: {{ template }}
      - label: black
    - prefs:
      - template: {{ template }}
      - netvm: ""
      - include_in_backups: True
    - tags:
      - add:
        - psbtbridge-cold

"{{ slsdotpath }}-hot":
  qvm.vm:
    - name: {{ hot }}
    - present:
      - template: {{ hot_template }}
      - label: orange
    - prefs:
      - netvm: sys-whonix
    - tags:
      - add:
        - psbtbridge-hot

"{{ slsdotpath }}-builder-template":
  qvm.vm:
    - name: dvm-psbtbridge-builder
    - require:
      - qvm: "{{ slsdotpath }}-template"
    - present:
      - template: {{ template }}
      - label: gray
    - prefs:
      - template: {{ template }}
      - template_for_dispvms: True
      - include_in_backups: False
    - tags:
      - add:
        - psbtbridge-builder

"{{ slsdotpath }}-builder":
  qvm.vm:
    - name: {{ builder }}
    - require:
      - qvm: "{{ slsdotpath }}-builder-template"
    - present:
      - template: dvm-psbtbridge-builder
      - label: gray
      - class: DispVM
    - prefs:
      - template: dvm-psbtbridge-builder
      - include_in_backups: False

{#- Checked with dom0's linter before it replaces anything (check_cmd runs on the new file). #}
"{{ slsdotpath }}-policy":
  file.managed:
    - name: /etc/qubes/policy.d/70-psbtbridge.policy
    - source: salt://psbtbridge-src/qrexec/70-psbtbridge.policy
    - mode: '0644'
    - user: root
    - group: root
    - check_cmd: qubes-policy-lint

"{{ slsdotpath }}-builder-policy":
  file.managed:
    - name: /etc/qubes/policy.d/70-psbtbridge-builder.policy
    - source: salt://{{ slsdotpath }}/files/admin/policy/70-psbtbridge-builder.policy
    - template: jinja
    - context:
        builder: {{ builder }}
        template: {{ template }}
        hot: {{ hot }}
    - mode: '0644'
    - user: root
    - group: root
    - check_cmd: qubes-policy-lint

{% endif -%}
