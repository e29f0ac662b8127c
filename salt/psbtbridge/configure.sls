{#
The offline cold qube: the data folder in the private volume (and an optional policy.toml
from the pillar psbtbridge:policy_toml). Never creates keys: that is `psbt keys init`, by the
person, on this qube's screen.
#}
{%- from "psbtbridge/map.jinja" import source, copy_source, user -%}

{% if grains['nodename'] != 'dom0' -%}

{%- set policy = salt['pillar.get']('psbtbridge:policy_toml', '') %}
{%- set script = source ~ '/salt/psbtbridge/files/bin/cold-qube' %}

{% if policy -%}
"{{ slsdotpath }}-policy-file":
  file.managed:
    - name: /run/psbtbridge-policy.toml
    - contents_pillar: psbtbridge:policy_toml
    - mode: '0600'
    - require_in:
      - cmd: "{{ slsdotpath }}-data"
{%- endif %}

"{{ slsdotpath }}-data":
  cmd.run:
    - name: sh {{ script }} --user {{ user }}{% if policy %} --policy /run/psbtbridge-policy.toml{% endif %}

{% endif -%}
