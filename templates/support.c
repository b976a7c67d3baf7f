{{ doc }}
{{ code }}
{%- for f in functions %}
{{ f.comment }}{{ f.returns }}
{{ f.name }}({{ f.params }})
{
{{ f.body }}
}
{% endfor -%}
