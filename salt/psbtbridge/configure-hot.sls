{#
The hot qube: psbtbridge beside Electrum, in the user's own venv (private volume), from the
wheelhouse the builder copied here.
#}
{%- from "psbtbridge/map.jinja" import source, copy_source, wheelhouse, builder, user -%}

{% if grains['nodename'] != 'dom0' -%}

{%- set wheels = wheelhouse if 'wheelhouse' in salt['pillar.get']('psbtbridge', {}) else '/home/' ~ user ~ '/QubesIncoming/' ~ builder ~ '/wheelhouse' %}

"{{ slsdotpath }}-packages":
  pkg.installed:
    - install_recommends: False
    - pkgs:
      - python3-venv

{% if copy_source -%}
"{{ slsdotpath }}-source":
  file.recurse:
    - name: {{ source }}
    - source: salt://psbtbridge-src
    - clean: True
    - dir_mode: '0755'
    - file_mode: keep
    - exclude_pat: E@(^|/)(\.git|\.venv|build)(/|$)
    - require_in:
      - cmd: "{{ slsdotpath }}-venv"
{%- endif %}

"{{ slsdotpath }}-venv":
  cmd.run:
    - name: >-
        sh {{ source }}/salt/psbtbridge/files/bin/hot-qube
        --source {{ source }} --wheelhouse {{ wheels }}
    - runas: {{ user }}
    - require:
      - pkg: "{{ slsdotpath }}-packages"

{% endif -%}
