{#
The cold template: Debian packages, the venv /opt/psbtbridge from the hash-checked wheelhouse
with the network cut off, and the qrexec services, all by the per-role script cold-template.
#}
{%- from "psbtbridge/map.jinja" import source, copy_source, wheelhouse, builder -%}

{% if grains['nodename'] != 'dom0' -%}

{%- set libs = {
  12: ['libsecp256k1-1', 'libzbar0'],
  13: ['libsecp256k1-2', 'libzbar0t64'],
}[grains['osmajorrelease'] | int] %}
{#- The builder's copy lands in the user's QubesIncoming, named after the builder. #}
{%- set wheels = wheelhouse if 'wheelhouse' in salt['pillar.get']('psbtbridge', {}) else '/home/user/QubesIncoming/' ~ builder ~ '/wheelhouse' %}

"{{ slsdotpath }}-installed":
  pkg.installed:
    - install_recommends: False
    - skip_suggestions: True
    - pkgs:
      - python3-venv
      - python3-tk
{%- for lib in libs %}
      - {{ lib }}
{%- endfor %}

{% if copy_source -%}
"{{ slsdotpath }}-source":
  file.recurse:
    - name: {{ source }}
    - source: salt://psbtbridge-src
    - clean: True
    - user: root
    - group: root
    - dir_mode: '0755'
    - file_mode: keep
    - exclude_pat: E@(^|/)(\.git|\.venv|build)(/|$)
    - require_in:
      - cmd: "{{ slsdotpath }}-venv"
{%- endif %}

"{{ slsdotpath }}-venv":
  cmd.run:
    - name: >-
        sh {{ source }}/salt/psbtbridge/files/bin/cold-template --no-apt
        --source {{ source }} --wheelhouse {{ wheels }}
    - require:
      - pkg: "{{ slsdotpath }}-installed"

{% endif -%}
